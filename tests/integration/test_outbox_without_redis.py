"""With Redis unreachable, accepted work waits in the outbox instead of failing the request."""

import time

import pytest
import redis

from portal import jobqueue
from portal.models import Job


def test_enqueue_while_redis_is_down_keeps_the_job(app):
    started = time.monotonic()
    row = jobqueue.enqueue(app.config, "jobs.feeds.rebuild_feeds", kind="feeds")
    assert time.monotonic() - started < 5, "an unreachable Redis must fail fast"
    stored = Job.get_by_id(row.id)
    assert stored.state == "outbox" and stored.state_label == "待排程"


def test_sweep_reports_redis_still_down(app):
    jobqueue.enqueue(app.config, "jobs.feeds.rebuild_feeds", kind="feeds")
    with pytest.raises(redis.exceptions.ConnectionError):
        jobqueue.sweep_outbox(app.config)
    assert Job.select().where(Job.state == "outbox").count() == 1


def test_enqueue_inside_a_transaction_waits_for_commit(app):
    from portal.db import database

    submitted = []
    original = jobqueue.submit
    jobqueue.submit = lambda config, job_id: submitted.append(job_id)
    try:
        with database.atomic():
            row = jobqueue.enqueue(app.config, "jobs.feeds.rebuild_feeds", kind="feeds")
            assert submitted == []
        assert submitted == [row.id]
    finally:
        jobqueue.submit = original
