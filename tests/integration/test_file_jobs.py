"""Background work on institution files with real parts: SMTP (aiosmtpd), a killed worker, a full disk."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import pyzipper
from aiosmtpd.controller import Controller

from jobs import context
from portal import jobqueue, mail
from portal.logic import notices, packaging
from portal.logic.roc_dates import taipei_to_utc, to_taipei
from portal.models import AuditEvent, Institution, Job
from portal.models.base import utcnow
from portal.models.institution_files import InstitutionFile, Package
from portal.storage import storage_for
from tests.conftest import _free_port
from tests.integration.test_authority_screens import signed_in, view
from tests.integration.test_institution_files import download, post, provide, run_worker
from tests.integration.test_institution_files import world as world  # noqa: F401 (the fixture)
from tests.integration.test_jobs_redis import _wait, _worker, kill_worker, worker_env
from tests.world import TAIPEI

pytestmark = pytest.mark.redis


class Inbox:
    """An SMTP server's received mail."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_e_delivery_notice_then_daily_reminders_until_first_view(world, smtp):
    controller, inbox = smtp
    app = world.app
    config = dict(app.config, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    Institution.update(e_delivery_since=utcnow() - timedelta(days=30),
                       notice_emails="clinic@example.com.tw; admin@example.com.tw, not-an-address").where(
        Institution.code == TAIPEI).execute()
    letter = provide(app, "3501200000-11-11409-1-1141109_RCP2003.pdf", category="approval", notice="approval",
                     days_ago=0.1)
    provide(app, "ordinary.html")  # not a notice: never mailed
    sender = mail.sender(config)
    # Taipei 09:00 today, tomorrow and the day after: after NOTICE_MAIL_HOUR.
    day0 = taipei_to_utc(to_taipei(utcnow()).date()) + timedelta(hours=9)

    assert notices.send_due(config, sender, day0) == 1
    assert notices.send_due(config, sender, day0 + timedelta(hours=5)) == 0  # once a day
    assert notices.send_due(config, sender, day0 + timedelta(days=1)) == 1
    assert len(inbox.messages) == 2
    first, reminder = inbox.messages
    assert sorted(first.rcpt_tos) == ["admin@example.com.tw", "clinic@example.com.tw"]
    assert "抽樣及核定通知電子送達" in _subject(first) and "通知" in _subject(first)
    assert "提醒" in _subject(reminder) and letter.name in _body(reminder) and "第33-1條" in _body(reminder)
    assert InstitutionFile.get_by_id(letter.id).reminders_sent == 1

    # The worker's job sends through the same server (day 2, no view yet): config comes from the app.
    context.use_config(config, bind=False)
    InstitutionFile.update(notified_at=utcnow() - timedelta(days=1)).where(InstitutionFile.id == letter.id).execute()
    job = jobqueue.enqueue(config, "jobs.files.send_notices", kind="notices")
    run_worker(app)
    if to_taipei(utcnow()).hour >= config["NOTICE_MAIL_HOUR"]:
        assert Job.get_by_id(job.id).message == "已寄出 1 封電子送達通知信。" and len(inbox.messages) == 3
    else:  # before 08:00 Taipei the hourly job waits for business hours
        assert Job.get_by_id(job.id).message == "已寄出 0 封電子送達通知信。" and len(inbox.messages) == 2
    sent_before_view = len(inbox.messages)

    # First view: recorded once, shown on the row, audited once.
    client = signed_in(world)
    download(app, client, InstitutionFile.get_by_id(letter.id), "aes")
    viewed = InstitutionFile.get_by_id(letter.id)
    assert viewed.first_viewed_at is not None and viewed.first_viewed_by.startswith("王大明")
    download(app, client, InstitutionFile.get_by_id(letter.id), "plain")
    assert InstitutionFile.get_by_id(letter.id).first_viewed_at == viewed.first_viewed_at
    delivered = list(AuditEvent.select().where(AuditEvent.action == "notice_delivered"))
    assert len(delivered) == 1 and json.loads(delivered[0].detail)["file_id"] == letter.id
    row_text = view(client, "/payments/E.01.02").select_one("#file-results tbody tr").get_text()
    assert "送達（首次點閱）" in row_text

    # Then the reminders stop.
    assert notices.send_due(config, sender, day0 + timedelta(days=3)) == 0
    assert len(inbox.messages) == sent_before_view


def test_institutions_on_paper_get_no_mail(world, smtp):
    controller, inbox = smtp
    config = dict(world.app.config, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    Institution.update(notice_emails="clinic@example.com.tw").execute()  # e_delivery_since stays empty
    provide(world.app, "sampling.pdf", category="claims", service="RWM", notice="sampling")
    noon = taipei_to_utc(to_taipei(utcnow()).date()) + timedelta(hours=12)
    assert notices.send_due(config, mail.sender(config), noon) == 0 and inbox.messages == []


def test_outbox_backend_writes_readable_messages(world, tmp_path):
    config = dict(world.app.config, MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    Institution.update(e_delivery_since=utcnow() - timedelta(days=1), notice_emails="clinic@example.com.tw").execute()
    provide(world.app, "sampling.pdf", category="claims", service="RWM", notice="sampling")
    noon = taipei_to_utc(to_taipei(utcnow()).date()) + timedelta(hours=12)
    assert notices.send_due(config, mail.sender(config), noon) == 1
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "clinic@example.com.tw" and "sampling.pdf" in message.get_content()


def test_worker_killed_while_packaging_is_retried_and_no_half_zip_is_served(world, tmp_path):
    app = world.app
    size = 96 * 1024 * 1024
    data = os.urandom(size)
    row = provide(app, "large-report.txt", data=data)
    client = signed_in(world)
    status_url = post(client, f"/files/{row.id}/download", {"mode": "aes"}).headers["Location"]
    package = Package.get(Package.file_ids == json.dumps([row.id]))
    env = worker_env(app.config)
    first = _worker(env)
    parts_dir = storage_for(app.config).root / "packages"
    try:
        assert _wait(lambda: Job.get_by_id(package.job_id).progress >= 10, 60), "packaging never got going"
        assert _files(parts_dir, ".part"), "the ZIP is written under a temporary name"
        killed_at = kill_worker(first)
    finally:
        if first.poll() is None:
            first.kill()
    # Mid-build nothing is downloadable: the page shows the build, not a link to half a ZIP.
    during = view(client, status_url)
    assert "檔案打包中" in during.get_text() and during.select_one("#package-status a.button") is None
    assert Package.get_by_id(package.id).storage_key is None
    second = _worker(env)
    try:
        ready = _wait(lambda: Package.get_by_id(package.id).state == "ready", 120)
        elapsed = time.monotonic() - killed_at
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    print(f"\n[packaging] retried after SIGKILL, ready {elapsed:.1f} s later")
    assert ready and Job.get_by_id(package.job_id).attempts == 2
    link = view(client, status_url).select_one("#package-status a.button")["href"]
    response = client.get(link)
    body = response.get_data()
    response.close()
    with pyzipper.AESZipFile(io.BytesIO(body)) as archive:
        archive.setpassword(b"A123456789")
        assert hashlib.sha256(archive.read("large-report.txt")).hexdigest() == hashlib.sha256(data).hexdigest()
    # The interrupted attempt's temporary file is never a package; pruning removes it once stale.
    for part in _files(parts_dir, ".part"):
        os.utime(part, (time.time() - 7200, time.time() - 7200))
    packaging.prune(storage_for(app.config), utcnow(), timedelta(hours=24))
    assert not _files(parts_dir, ".part")


def test_disk_full_while_packaging_leaves_nothing_and_says_so(world, tmp_path):
    app = world.app
    storage = storage_for(app.config)
    row = provide(app, "too-big-for-the-disk.txt", data=os.urandom(2 * 1024 * 1024))
    kept = provide(app, "kept.txt", data=b"stays intact")
    packages = storage.root / "packages"
    packages.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(packages)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip()}")
    try:
        client = signed_in(world)
        status_url = post(client, f"/files/{row.id}/download", {"mode": "plain"}).headers["Location"]
        run_worker(app)
        page = view(client, status_url)
        assert packaging.DISK_FULL_MESSAGE in page.select_one("#package-status .error-box").get_text()
        assert page.select_one("#package-status a.button") is None
        assert _files(packages, "") == []  # no partial file left
        # Nothing else is affected: stored files read back intact, and a small package still fits.
        for file_row in (row, kept):
            with storage.open(file_row.stored_file.key) as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == file_row.stored_file.sha256
        fetched = download(app, client, InstitutionFile.get_by_id(kept.id))
        with pyzipper.ZipFile(io.BytesIO(fetched.data)) as archive:
            assert archive.read("kept.txt") == b"stays intact"
    finally:
        subprocess.run(["umount", str(packages)], check=False)


def _files(folder, suffix: str) -> list[str]:
    """Files under a folder whose names end with suffix (os.walk closes what it opens)."""
    return [os.path.join(d, n) for d, _, names in os.walk(folder) for n in names if n.endswith(suffix)]


def _subject(envelope) -> str:
    return str(message_from_bytes(envelope.content, policy=policy.default)["Subject"])


def _body(envelope) -> str:
    return message_from_bytes(envelope.content, policy=policy.default).get_content()
