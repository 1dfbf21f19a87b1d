"""Recurring work, run by RQ's cron scheduler: `python -m jobs.schedules`.

The scheduler only enqueues; the worker runs each tick. Work that users or staff
can see goes through portal.jobqueue.enqueue, so it gets a Job row.
"""

from __future__ import annotations

import logging

from rq.cron import CronScheduler

from jobs import context
from portal import jobqueue
from portal.logic import feeds


def sweep_outbox() -> int:
    """Enqueue jobs accepted while Redis was unreachable (and ones Redis lost)."""
    with context.job_database():
        return jobqueue.sweep_outbox(context.config())


def refresh_feeds() -> int:
    """Hourly rebuild, so announcements whose publish window opened or closed show up."""
    with context.job_database():
        return feeds.request_rebuild(context.config()).id


def issue_modules() -> int:
    """On the hour: issue waiting 雲端安全模組 applications (SPEC L6)."""
    with context.job_database():
        return jobqueue.enqueue(context.config(), "jobs.pki.issue_modules", kind="modules").id


def refresh_crls() -> int:
    """Hourly: refresh the certificate revocation lists."""
    with context.job_database():
        return jobqueue.enqueue(context.config(), "jobs.pki.refresh_crls", kind="crls").id


def serve_file_requests() -> int:
    """Hourly: serve 申請 made before today, so they are ready the next morning (SPEC D3)."""
    with context.job_database():
        return jobqueue.enqueue(context.config(), "jobs.files.serve_requests", kind="file_requests").id


def send_notices() -> int:
    """Hourly: e-delivery notices and daily reminders, at most one mail a day each (SPEC D5)."""
    with context.job_database():
        return jobqueue.enqueue(context.config(), "jobs.files.send_notices", kind="notices").id


def prune_packages() -> int:
    """Nightly: remove packages nobody fetched lately."""
    with context.job_database():
        return jobqueue.enqueue(context.config(), "jobs.files.prune_packages", kind="packages_prune").id


def build_scheduler(config: dict) -> CronScheduler:
    """A cron scheduler with every recurring job of the portal registered."""
    cron = CronScheduler(connection=jobqueue.redis_connection(config), logging_level=config["RQ_LOG_LEVEL"])
    queue = config["RQ_QUEUE"]
    cron.register(sweep_outbox, queue, interval=config["OUTBOX_SWEEP_SECONDS"], name="sweep_outbox")
    cron.register(refresh_feeds, queue, cron="5 * * * *", name="refresh_feeds")
    cron.register(issue_modules, queue, cron="0 * * * *", name="issue_modules")
    cron.register(refresh_crls, queue, cron="10 * * * *", name="refresh_crls")
    # Hourly rather than once a day: a worker that was down at the hour catches up at the next.
    cron.register(serve_file_requests, queue, cron="15 * * * *", name="serve_file_requests")
    cron.register(send_notices, queue, cron="20 * * * *", name="send_notices")
    cron.register(prune_packages, queue, cron="40 3 * * *", name="prune_packages")
    return cron


def main() -> None:
    """Run the scheduler until stopped."""
    config = context.config()
    logging.basicConfig(level=config["LOG_LEVEL"], format="%(asctime)s cron %(levelname)s %(message)s")
    logging.getLogger("rq").setLevel(config["RQ_LOG_LEVEL"])
    build_scheduler(config).start()


if __name__ == "__main__":
    # Under `python -m` this file is __main__; RQ refuses __main__ functions, so
    # register the ones of the importable module instead.
    from jobs.schedules import main as importable_main

    importable_main()
