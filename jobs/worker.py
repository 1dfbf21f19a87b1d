"""The RQ worker of the portal: `python -m jobs.worker [--burst]`.

RQ's defaults take ~13 minutes to notice that a worker died mid-job
(TOOLING.md §2b). A short heartbeat TTL (monitoring interval + 10 s instead of
RQ's hard-coded + 60 s), a short worker TTL and a 5 s maintenance interval
bring that to well under 30 s; Retry on every job then runs it again.
"""

from __future__ import annotations

import argparse
import logging

from rq.worker import Worker

from jobs import context
from portal.checks.warmup import warm_up
from portal.jobqueue import redis_connection

JOB_MONITORING_INTERVAL = 5
WORKER_TTL = 20
MAINTENANCE_INTERVAL = 5


class FastRecoveryWorker(Worker):
    """A forking worker whose started-job entries expire 10 s after the last heartbeat."""

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        """Heartbeat TTL = monitoring interval (bounded by the job's remaining time) + 10 s."""
        if job.timeout and job.timeout > 0:
            return int(min(job.timeout - working_time, self.job_monitoring_interval)) + 10
        return self.job_monitoring_interval + 10


def build_worker(config: dict, worker_class=FastRecoveryWorker) -> Worker:
    """A worker on the portal's queue with the fast-recovery timings."""
    return worker_class(
        [config["RQ_QUEUE"]],
        connection=redis_connection(config),
        job_monitoring_interval=JOB_MONITORING_INTERVAL,
        worker_ttl=WORKER_TTL,
        maintenance_interval=MAINTENANCE_INTERVAL,
    )


def main(argv=None) -> None:
    """Run the worker (with RQ's scheduler for delayed retries) until stopped."""
    parser = argparse.ArgumentParser(description="健保資訊網服務系統 background worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args(argv)
    config = context.config()
    logging.basicConfig(level=config["LOG_LEVEL"], format="%(asctime)s worker %(levelname)s %(message)s")
    logging.getLogger("rq").setLevel(config["RQ_LOG_LEVEL"])
    try:  # before RQ forks a work horse per job, so each inherits the loaded tables
        warm_up()
    except Exception:  # a check loads what it needs itself; a slower first check beats no worker
        logging.getLogger(__name__).exception("warm-up failed")
    build_worker(config).work(burst=args.burst, with_scheduler=True, logging_level=config["RQ_LOG_LEVEL"])


if __name__ == "__main__":
    main()
