"""Upload checks under faults (SPEC U4, non-negotiable 3): a worker killed mid-check, a report that cannot be written."""

from __future__ import annotations

import io
import signal
import time
import zipfile

import pytest

from portal.checks import samples
from portal.logic import uploads
from portal.models import Job
from portal.models.uploads import Upload
from portal.storage import storage_for
from tests.integration.test_authority_screens import signed_in, view
from tests.integration.test_claims_precheck import send
from tests.integration.test_claims_precheck import world as world  # noqa: F401 (the fixture)
from tests.integration.test_institution_files import post, run_worker
from tests.integration.test_jobs_redis import _wait, _worker, kill_worker, worker_env

pytestmark = pytest.mark.redis


def test_a_worker_killed_mid_check_is_retried_within_30_s_with_the_same_result(world):
    app = world.app
    app.config["CLAIMS_UPLOAD_MAX_BYTES"] = 64 * 2**20
    buffer = io.BytesIO()
    samples.claims_zip(buffer, target_bytes=24 * 2**20, seed=11)  # a few seconds of checking
    client = signed_in(world)
    location = send(client, buffer.getvalue()).headers["Location"]
    upload = Upload.get()
    expected = uploads.run_check(app.config, storage_for(app.config), upload)  # the uninterrupted answer
    env = worker_env(app.config)
    first = _worker(env)
    try:
        assert _wait(lambda: Upload.get_by_id(upload.id).state == "checking", 60), "the check never started"
        time.sleep(1)
        killed_at = kill_worker(first)
    finally:
        if first.poll() is None:
            first.kill()
    assert "檢核中" in view(client, location).select_one("#upload-status").get_text()
    second = _worker(env)
    try:
        restarted = _wait(lambda: Job.get_by_id(upload.job_id).attempts >= 2, 60)
        retried_after = time.monotonic() - killed_at
        done = _wait(lambda: Upload.get_by_id(upload.id).state == "done", 120)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    print(f"\n[upload check] retried {retried_after:.1f} s after SIGKILL")
    assert restarted and retried_after <= 30
    assert done
    row = Upload.get_by_id(upload.id)
    assert (row.result, row.records, row.orders, row.errors, row.warnings) == (
        "ok" if expected.ok else "errors", expected.records, expected.orders, expected.errors, expected.warnings)
    assert row.declared_points == expected.declared_points


def test_a_report_that_cannot_be_written_leaves_a_clear_failure_and_can_be_retried(world, monkeypatch):
    app = world.app
    app.config["JOB_RETRIES"] = 1  # the burst worker runs the retry at once; it fails the same way
    client = signed_in(world)
    broken = samples.valid_claims_example().replace(b"<d41>356</d41>", b"<d41>357</d41>")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("TOTFA.xml", broken)
    location = send(client, zipped.getvalue()).headers["Location"]

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads.institution_files, "provide", disk_full)
    run_worker(app)
    upload = Upload.get()
    assert upload.state == "failed" and upload.report is None
    box = view(client, location).select_one("#upload-status")
    assert "檢核結果無法完成" in box.get_text() and box.select_one("form button").get_text() == "重新檢核"
    assert not box.has_attr("hx-get")
    monkeypatch.undo()
    assert post(client, box.select_one("form")["action"]).status_code == 303
    run_worker(app)
    upload = Upload.get()
    assert (upload.state, upload.result) == ("done", "errors") and upload.report is not None
