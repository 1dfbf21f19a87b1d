"""Migrations match the models; the demo seed is idempotent; CLI commands work."""

from portal import schema
from portal.db import database
from portal.models import (
    Announcement,
    Contact,
    DownloadDocument,
    Faq,
    Job,
    LinkContact,
    PolicySection,
    StoredFile,
    Upload,
)


def test_migrations_create_exactly_what_the_models_declare(app):
    assert schema.pending(database.obj) == []
    assert schema.drift(database.obj) == ""


def test_drift_is_detected(app):
    database.obj.execute_sql("ALTER TABLE announcement ADD COLUMN stray TEXT")
    assert "drop column announcement.stray" in schema.drift(database.obj)


def test_seed_demo_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = [m.select().count() for m in (Announcement, DownloadDocument, Contact, Faq, LinkContact, PolicySection,
                                           StoredFile, Upload)]
    stamps = {a.id: a.updated_at for a in Announcement.select()}
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert counts == [m.select().count() for m in (Announcement, DownloadDocument, Contact, Faq, LinkContact,
                                                   PolicySection, StoredFile, Upload)]
    assert counts[-1] > 20  # the demo uploads, checked on the spot: their jobs are done, not waiting
    assert stamps == {a.id: a.updated_at for a in Announcement.select()}
    assert "示範資料" in second.output and "待排程" in second.output
    assert Job.select().where(Job.state == "outbox").count() == 2


def test_check_schema_command(app):
    result = app.test_cli_runner().invoke(args=["check-schema"])
    assert result.exit_code == 0, result.output
