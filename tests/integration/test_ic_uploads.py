"""健保卡就醫資料上傳 (SPEC U2–U4): the HIS API with module signatures, the manual upload, 預檢, history checks."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from jobs import context
from portal.cardagent import protocol
from portal.checks import samples
from portal.logic import his_api
from portal.logic.roc_dates import to_taipei
from portal.models import AuditEvent, Institution
from portal.models.base import utcnow
from portal.models.modules import SecurityModule
from portal.models.uploads import IcRecord, Upload
from tests import world as world_kit
from tests.conftest import instance_overrides, migrated_app
from tests.integration.conftest import World, sign
from tests.integration.test_authority_screens import as_chen, signed_in, view
from tests.integration.test_institution_files import post, run_worker
from tests.world import KAOPING, TAIPEI

pytestmark = pytest.mark.redis


@pytest.fixture
def world(tmp_path, test_cas, redis_url):
    """The login world on a real Redis; no maintenance window."""
    pki = tmp_path / "pki"
    app = migrated_app(instance_overrides(
        tmp_path, PKI_DIR=str(pki), CRL_DIR=str(pki / "crl"), PAGE_CACHE_SECONDS=0, REDIS_URL=redis_url,
        JOB_RETRY_DELAY_SECONDS=0, PACKAGE_WAIT_SECONDS=0, UPLOAD_MAINTENANCE_START="00:00",
        UPLOAD_MAINTENANCE_END="00:00"))
    world_kit.trust(app, test_cas)
    made = world_kit.populate(app, test_cas)
    context.use_config(app.config, bind=False)
    return World(app, dict(test_cas), made.cards, made.modules)


def today() -> date:
    """Today in Taipei (the samples date visits yesterday)."""
    return to_taipei(utcnow()).date()


def signed_headers(module, institution: str, action: str, body: bytes, *, nonce: str | None = None,
                   at: datetime | None = None, tamper: bool = False) -> dict:
    """What a HIS program sends: the module's certificate and its signature over the request."""
    stamp = protocol.utc_timestamp(at)
    nonce = nonce or secrets.token_hex(16)
    text = his_api.signed_text(institution, action, hashlib.sha256(body).hexdigest(), stamp, nonce)
    signature, algorithm = sign(module.key, text)
    if tamper:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    return {"X-NHI-Module-Certificate": protocol.b64encode(module.der), "X-NHI-Signature": protocol.b64encode(signature),
            "X-NHI-Algorithm": algorithm, "X-NHI-Timestamp": stamp, "X-NHI-Nonce": nonce,
            "X-NHI-Institution": institution, "X-NHI-File-Name": "3501200000_daily.xml"}


def api_upload(world, body: bytes, kind: str = "ic", **changes):
    """POST a signed upload as 臺北虛擬診所's HIS."""
    module = world.modules[TAIPEI]
    headers = signed_headers(module, changes.pop("institution", TAIPEI), kind, changes.pop("signed_body", body),
                             **changes)
    path = "/api/his/v1/ic-uploads" if kind == "ic" else "/api/his/v1/ic-prechecks"
    return world.app.test_client().post(path, data=body, headers=headers, content_type="application/xml")


def test_a_signed_his_upload_is_received_checked_and_listed(world):
    body = samples.valid_ic_example("1.0", today=today())
    response = api_upload(world, body)
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    assert answer["state_label"] == "收件" and answer["receipt_no"].startswith("I")
    run_worker(world.app)

    status_path = answer["status_url"]
    action = f"status:{answer['receipt_no']}"
    status = world.app.test_client().get(status_path, headers=signed_headers(world.modules[TAIPEI], TAIPEI, action, b""))
    assert status.get_json()["result_label"] == "檢核無誤"
    assert (status.get_json()["records"], status.get_json()["valid_records"], status.get_json()["orders"]) == (1, 1, 3)

    client = as_chen(world)  # 陳小華 holds IPA
    rows = view(client, "/ic-upload/results").select("#ic-results tbody tr")
    cells = [td.get_text(" ", strip=True) for td in rows[0].select("td")]
    assert cells[5:11] == ["1", "1", "3", "3", "0", "0"] and cells[11] == "檢核無誤"
    upload = Upload.get()
    taipei_module = SecurityModule.get(SecurityModule.institution == Institution.get(Institution.code == TAIPEI))
    assert (upload.channel, upload.person, upload.module_no) == ("api", None, taipei_module.module_no)
    assert IcRecord.select().count() == 1


def test_forged_expired_replayed_and_foreign_signatures_are_refused_and_nothing_is_stored(world):
    body = samples.valid_ic_example("1.0", today=today())
    assert api_upload(world, body, tamper=True).status_code == 401
    assert api_upload(world, body, signed_body=body + b" ").status_code == 401  # signature over other bytes
    old = datetime.now(UTC) - timedelta(minutes=30)
    refused = api_upload(world, body, at=old)
    assert refused.status_code == 401 and "時間" in refused.get_json()["message"]
    assert api_upload(world, body, institution=KAOPING).status_code == 403  # 臺北's module claims 高屏
    unsigned = world.app.test_client().post("/api/his/v1/ic-uploads", data=body)
    assert unsigned.status_code == 401 and "X-NHI-Signature" in unsigned.get_json()["message"]
    assert Upload.select().count() == 0
    assert not list(Path(world.app.config["STORAGE_DIR"]).rglob("*.bin"))
    nonce = secrets.token_hex(16)
    assert api_upload(world, body, nonce=nonce).status_code == 202
    again = api_upload(world, body, nonce=nonce)
    assert again.status_code == 409 and Upload.select().count() == 1
    assert AuditEvent.select().where((AuditEvent.action == "his_api") & (AuditEvent.result == "denied")).count() == 6


def test_an_oversize_his_upload_is_refused_from_its_length_as_json(world):
    world.app.config["IC_UPLOAD_MAX_BYTES"] = 2**20
    for size in (3 * 2**20, 2**20 + 1):  # refused from its length / while reading (within the form overhead)
        response = api_upload(world, b"<" * size)
        assert response.status_code == 413
        assert response.get_json() == {"error": "too_large", "message": "檔案超過 1 MB 上限，系統未接收此檔案。"}
    assert Upload.select().count() == 0


def test_an_institution_without_the_service_cannot_upload(world):
    module = world.modules[KAOPING]  # 高屏虛擬醫院 applied for RWM and RDD only
    body = samples.valid_ic_example("1.0", today=today()).replace(TAIPEI.encode(), KAOPING.encode())
    response = world.app.test_client().post("/api/his/v1/ic-uploads", data=body,
                                            headers=signed_headers(module, KAOPING, "ic", body))
    assert response.status_code == 403 and "IPA" in response.get_json()["message"]


def test_the_same_visit_twice_is_c001_and_a_correction_without_original_is_y009(world):
    first = api_upload(world, samples.valid_ic_example("1.0", today=today()))
    run_worker(world.app)
    second = api_upload(world, samples.valid_ic_example("1.0", today=today()))
    run_worker(world.app)
    assert first.status_code == second.status_code == 202
    uploads = list(Upload.select().order_by(Upload.id))
    assert uploads[0].result == "ok" and uploads[1].result == "errors"
    assert uploads[1].summary_values["codes"] == {"C001": 1}
    assert (uploads[1].records, uploads[1].invalid_records, uploads[1].invalid_orders) == (1, 1, 3)
    for _name, data in samples.MUTATIONS["I25"].build(today=today()):
        api_upload(world, data)
    run_worker(world.app)
    assert Upload.select().order_by(Upload.id.desc()).get().summary_values["codes"] == {"Y009": 1}


def test_a_precheck_never_counts_as_an_upload_or_in_history(world):
    client = as_chen(world)
    body = samples.valid_ic_example("2.0", today=today())
    response = post(client, "/ic-upload/precheck", {"file": (io.BytesIO(body), "123test.txt")},
                    content_type="multipart/form-data")
    assert response.status_code == 303
    page = view(client, response.headers["Location"])
    assert "上傳檔案成功!!" in page.get_text()
    assert page.select_one("#upload-status")["hx-trigger"] == "every 2s"
    listed = view(client, "/ic-upload/prechecks").select("#precheck-results tbody tr")[0]
    assert [td.get_text(strip=True) for td in listed.select("td")][2:] == ["未處理", "N/A"]
    run_worker(world.app)
    listed = view(client, "/ic-upload/prechecks").select("#precheck-results tbody tr")[0]
    assert listed.select("td")[2].get_text(strip=True) == "已完成"
    assert listed.select("td")[1].get_text().startswith(f"{TAIPEI}_1")
    assert IcRecord.select().count() == 0  # a pre-check is not stored history
    assert api_upload(world, body).status_code == 202  # so the real upload is not C001
    run_worker(world.app)
    assert Upload.select().order_by(Upload.id.desc()).get().result == "ok"


def test_a_manual_upload_with_errors_offers_the_report(world):
    client = as_chen(world)
    data = samples.MUTATIONS["I11"].build(today=today())[0][1]
    response = post(client, "/ic-upload/daily", {"file": (io.BytesIO(data), "daily.xml")},
                    content_type="multipart/form-data")
    location = response.headers["Location"]
    run_worker(world.app)
    box = view(client, location).select_one("#upload-status")
    assert "有無效明細" in box.get_text()
    assert [b.get_text() for b in box.select("form.dl button")] == ["下載", "加密下載"]
    cells = [td.get_text(" ", strip=True) for td in view(client, "/ic-upload/results").select("#ic-results tbody td")]
    assert cells[5:11] == ["1", "0", "3", "0", "1", "3"] and "下載" in cells[11]


def test_another_institutions_upload_is_404_and_the_service_is_required(world):
    response = api_upload(world, samples.valid_ic_example("1.0", today=today()))
    receipt = response.get_json()["receipt_no"]
    with world.app.app_context():
        Upload.update(institution=Institution.get(Institution.code == KAOPING)).execute()
    assert as_chen(world).get(f"/ic-upload/uploads/{receipt}").status_code == 404
    assert signed_in(world).get("/ic-upload/results").status_code == 403  # 王大明 holds RWM and IWF, not IPA
