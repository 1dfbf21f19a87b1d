"""The one way to start background work: a Job row first, then RQ, with an outbox.

A job is enqueued by dotted path with ids only. Its row is written before Redis
is touched; if Redis cannot be reached the row stays 待排程 (outbox) and the
periodic sweep enqueues it once Redis answers, so accepted work is never lost.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import redis
from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob

from portal.db import database
from portal.models.base import utcnow
from portal.models.jobs import Job

log = logging.getLogger(__name__)

_connections: dict[str, redis.Redis] = {}

# A queued row whose RQ job has vanished this long (Redis lost its data) is re-enqueued.
STALE_AFTER = timedelta(minutes=2)


def redis_connection(config) -> redis.Redis:
    """A shared client for REDIS_URL, failing fast when Redis is down."""
    url = config["REDIS_URL"]
    if url not in _connections:
        _connections[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=10)
    return _connections[url]


def rq_queue(config) -> Queue:
    """The RQ queue the web enqueues to and workers read."""
    return Queue(config["RQ_QUEUE"], connection=redis_connection(config))


def enqueue(config, func: str, *args, kind: str, owner_id=None, institution_id=None, not_before=None) -> Job:
    """Record a job and hand it to RQ once the row is committed (or, with not_before, once that time comes).

    `func` is a dotted path under jobs/; `args` are ids or other small plain values. A job
    held until not_before waits in the outbox, where the periodic sweep finds it when due:
    the wait survives restarts of Redis and of the portal.
    """
    row = Job.create(
        kind=kind, func=func, args=json.dumps(list(args)), state="outbox",
        owner_id=owner_id, institution_id=institution_id, not_before=not_before,
    )
    if not_before is not None and not_before > utcnow():
        return row
    # Inside a transaction the worker could otherwise pick the job up before
    # the row is visible; after_commit runs at once when there is none.
    database.after_commit(lambda: submit(config, row.id))
    return row


def submit(config, job_id: int) -> bool:
    """Move one outbox row to RQ; False (row stays 待排程) when Redis is unreachable."""
    now = utcnow()
    claimed = (
        Job.update(state="queued", updated_at=now)
        .where((Job.id == job_id) & (Job.state == "outbox") & (Job.not_before.is_null() | (Job.not_before <= now)))
        .execute()
    )
    if not claimed:
        return False
    row = Job.get_by_id(job_id)
    try:
        _push(config, row)
    except redis.exceptions.RedisError as exc:
        log.warning("job %s kept in outbox: Redis unreachable (%s)", job_id, exc)
        Job.update(state="outbox", updated_at=utcnow()).where(Job.id == job_id).execute()
        return False
    return True


def _push(config, row: Job) -> None:
    """Put the row's work on the RQ queue under its deterministic id."""
    rq_queue(config).enqueue(
        row.func,
        row.id,
        *json.loads(row.args),
        job_id=row.rq_id,
        description=f"{row.kind} #{row.id}",
        retry=Retry(max=config["JOB_RETRIES"], interval=config["JOB_RETRY_DELAY_SECONDS"]),
        job_timeout=config["JOB_TIMEOUT_SECONDS"],
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        on_failure=Callback("jobs.tracking.on_failure"),
    )


def sweep_outbox(config) -> int:
    """Enqueue rows waiting in the outbox and re-enqueue queued rows Redis has lost.

    Returns how many rows were handed to RQ. Raises RedisError when Redis is
    still down, so a scheduler run shows the failure.
    """
    connection = redis_connection(config)
    connection.ping()
    due = Job.not_before.is_null() | (Job.not_before <= utcnow())
    submitted = sum(submit(config, job_id) for job_id in _ids((Job.state == "outbox") & due))
    cutoff = utcnow() - STALE_AFTER
    for job_id in _ids((Job.state == "queued") & (Job.updated_at < cutoff)):
        if not _rq_job_exists(connection, job_id):
            log.warning("job %s was queued but Redis has no trace of it; re-enqueueing", job_id)
            Job.update(state="outbox").where((Job.id == job_id) & (Job.state == "queued")).execute()
            submitted += submit(config, job_id)
    return submitted


def _ids(condition) -> list[int]:
    """Ids of job rows matching a condition, oldest first."""
    return [r.id for r in Job.select(Job.id).where(condition).order_by(Job.id)]


def _rq_job_exists(connection, job_id: int) -> bool:
    """Whether RQ still holds the job (queued, started, scheduled or finished)."""
    try:
        RQJob.fetch(f"portal-job-{job_id}", connection=connection)
    except NoSuchJobError:
        return False
    return True
