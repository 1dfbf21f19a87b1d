"""Flask commands: migrate, check-schema, seed-demo, sweep-outbox, rebuild-feeds."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal import jobqueue, schema
from portal.db import database
from portal.logic import feeds
from portal.storage import storage_for


def init_app(app) -> None:
    """Register the portal's commands on `flask`."""
    for command in (migrate, check_schema, seed_demo, sweep_outbox, rebuild_feeds, issue_modules, refresh_crls,
                    issue_demo_cards):
        app.cli.add_command(command)


@click.command("migrate")
@with_appcontext
def migrate():
    """Apply pending database migrations."""
    with database.connection_context():
        applied = schema.migrate(database.obj)
    click.echo("已套用：" + ", ".join(applied) if applied else "資料庫已是最新版本。")


@click.command("check-schema")
@with_appcontext
def check_schema():
    """Exit 1 when the models and the migrated database disagree."""
    with database.connection_context():
        waiting = schema.pending(database.obj)
        diff = schema.drift(database.obj)
    if waiting:
        click.echo("尚未套用的 migration：" + ", ".join(waiting))
    if diff:
        click.echo("models 與資料庫不一致：\n" + diff)
    sys.exit(1 if waiting or diff else 0)


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load the demo content (idempotent) and ask the worker to rebuild the feeds."""
    from portal import demo

    config = current_app.config
    with database.connection_context():
        counts = demo.load_all(storage_for(config), config)
        job = feeds.request_rebuild(config)
    click.echo("示範資料：" + "、".join(f"{k} {v} 筆" for k, v in counts.items()))
    click.echo(f"已排入工作 #{job.id}（更新公告訂閱來源），狀態：{job.state_label}")


@click.command("sweep-outbox")
@with_appcontext
def sweep_outbox():
    """Enqueue jobs that were accepted while Redis was unreachable."""
    with database.connection_context():
        count = jobqueue.sweep_outbox(current_app.config)
    click.echo(f"已排入 {count} 個待排程工作。")


@click.command("rebuild-feeds")
@with_appcontext
@click.option("--now", is_flag=True, help="build in this process instead of asking the worker")
def rebuild_feeds(now: bool):
    """Rebuild the Atom feeds (normally done by the worker)."""
    config = current_app.config
    with database.connection_context():
        if now:
            kinds = feeds.publish_all(config, storage_for(config))
            click.echo("已更新：" + ", ".join(kinds))
        else:
            job = feeds.request_rebuild(config)
            click.echo(f"已排入工作 #{job.id}，狀態：{job.state_label}")


@click.command("issue-modules")
@with_appcontext
def issue_modules():
    """Issue waiting 雲端安全模組 applications now (normally the worker does it on the hour)."""
    from portal.logic import modules

    config = current_app.config
    with database.connection_context():
        issued = modules.issue_pending(config, storage_for(config))
    click.echo(f"已核發 {len(issued)} 組雲端安全模組。")


@click.command("refresh-crls")
@with_appcontext
def refresh_crls():
    """Fetch the configured CRLs into the cache now (normally the worker does it hourly)."""
    from portal.pki import crl
    from portal.pki.verify import load_trust

    config = current_app.config
    with database.connection_context():
        results = crl.refresh(crl.sources(config), load_trust(config["PKI_DIR"]))
    for r in results:
        click.echo(f"{r.source}: " + (f"失敗 {r.error}" if r.error else f"{r.issuer}，{r.revoked} 張已廢止"))


@click.command("issue-demo-cards")
@with_appcontext
def issue_demo_cards():
    """TEST CAs, demo cards for the card agent's soft backend, and the demo institution's module."""
    from portal.demo import cards

    config = current_app.config
    with database.connection_context():
        made = cards.issue_all(config, storage_for(config))
    for line in made:
        click.echo(line)
