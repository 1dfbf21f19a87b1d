"""The job plumbing against a real redis-server: enqueue, run, retry, outbox, worker death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from rq import SimpleWorker

from jobs import context
from portal import jobqueue
from portal.logic import feeds
from portal.models import Job
from portal.storage import storage_for
from tests.conftest import ROOT, instance_overrides, migrated_app

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_app(tmp_path, redis_url):
    """A migrated app whose REDIS_URL is the test Redis; jobs in this process use its settings."""
    app = migrated_app(instance_overrides(tmp_path, REDIS_URL=redis_url, JOB_RETRY_DELAY_SECONDS=0))
    context.use_config(app.config, bind=False)
    yield app


def run_burst(config) -> None:
    """Run every queued job in this process, as a worker would."""
    SimpleWorker([config["RQ_QUEUE"]], connection=jobqueue.redis_connection(config)).work(burst=True)


def test_enqueued_job_runs_and_its_row_says_done(redis_app):
    row = feeds.request_rebuild(redis_app.config)
    assert Job.get_by_id(row.id).state == "queued"
    run_burst(redis_app.config)
    done = Job.get_by_id(row.id)
    assert (done.state, done.attempts, done.progress) == ("done", 1, 100)
    assert done.message == "已更新 4 個公告訂閱來源（Atom）。"
    storage = storage_for(redis_app.config)
    assert all(storage.exists(feeds.storage_key(kind)) for kind in feeds.FEED_KINDS)


def test_failing_job_is_retried_then_marked_failed(redis_app):
    row = jobqueue.enqueue(redis_app.config, "tests.job_fixtures.always_fails", kind="test")
    run_burst(redis_app.config)
    failed = Job.get_by_id(row.id)
    assert failed.state == "failed" and failed.state_label == "失敗"
    assert failed.attempts == redis_app.config["JOB_RETRIES"] + 1
    assert "RuntimeError: simulated failure" in failed.error
    assert "simulated" not in failed.message and failed.message.startswith("執行失敗")


def test_job_accepted_while_redis_is_down_runs_when_it_returns(redis_app, tmp_path):
    down = dict(redis_app.config, REDIS_URL=f"unix://{tmp_path / 'down.sock'}")
    row = feeds.request_rebuild(down)
    assert Job.get_by_id(row.id).state == "outbox"
    assert jobqueue.sweep_outbox(redis_app.config) == 1
    run_burst(redis_app.config)
    assert Job.get_by_id(row.id).state == "done"


def test_job_lost_by_redis_is_enqueued_again(redis_app, monkeypatch):
    row = feeds.request_rebuild(redis_app.config)
    jobqueue.redis_connection(redis_app.config).flushall()  # e.g. Redis restarted without its data
    monkeypatch.setattr(jobqueue, "STALE_AFTER", jobqueue.timedelta(0))
    assert jobqueue.sweep_outbox(redis_app.config) == 1
    run_burst(redis_app.config)
    assert Job.get_by_id(row.id).state == "done"


def test_running_the_same_job_twice_is_harmless(redis_app):
    row = feeds.request_rebuild(redis_app.config)
    run_burst(redis_app.config)
    from jobs.feeds import rebuild_feeds

    assert rebuild_feeds(row.id) == Job.get_by_id(row.id).message
    assert Job.get_by_id(row.id).attempts == 1


def worker_env(config) -> dict:
    """Environment for a worker process on this app's database, Redis and storage (retries after 1 s)."""
    return dict(os.environ, **{f"PORTAL_{k}": str(config[k]) for k in (
        "DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "INSTANCE_DIR", "SECRET_KEY")}, PORTAL_JOB_RETRY_DELAY_SECONDS="1")


def _worker(env) -> subprocess.Popen:
    """The real worker process, as `make run` starts it."""
    return subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_worker(process: subprocess.Popen) -> float:
    """SIGKILL a worker and its work-horse at once, as in a crash; returns the monotonic time of the kill."""
    horses = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    killed_at = time.monotonic()
    os.kill(process.pid, signal.SIGKILL)
    for pid in horses:
        os.kill(int(pid), signal.SIGKILL)
    process.wait(10)
    return killed_at


def _wait(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_job_of_a_killed_worker_is_retried_by_the_next_worker(redis_app, tmp_path):
    env = worker_env(redis_app.config)
    markers = tmp_path / "markers"
    markers.mkdir()
    row = jobqueue.enqueue(dict(redis_app.config, JOB_RETRY_DELAY_SECONDS=1),
                           "tests.job_fixtures.slow_on_first_attempt", str(markers), kind="test")
    first = _worker(env)
    try:
        assert _wait(lambda: (markers / "attempt-1.pid").exists(), 30), "the first worker never started the job"
        horse = int((markers / "attempt-1.pid").read_text())
        assert Job.get_by_id(row.id).state == "running"
        killed_at = time.monotonic()
        os.kill(first.pid, signal.SIGKILL)  # a machine-crash-like death: parent and work-horse at once
        os.kill(horse, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker(env)
    try:
        recovered = _wait(lambda: Job.get_by_id(row.id).state == "done", 120)
        elapsed = time.monotonic() - killed_at
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    print(f"\n[worker death] job retried and done {elapsed:.1f} s after SIGKILL (budget 30 s)")
    assert recovered, f"job still {Job.get_by_id(row.id).state} after {elapsed:.0f} s"
    done = Job.get_by_id(row.id)
    assert done.attempts == 2 and done.message == "第 2 次執行完成"

