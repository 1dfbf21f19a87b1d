"""預檢醫療費用申報 (SPEC U1, U4) through the web, checked by a real worker on a real Redis."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import pyzipper

from jobs import context
from portal import jobqueue
from portal.checks import samples
from portal.logic import authority, uploads
from portal.logic.audit import SYSTEM
from portal.logic.roc_dates import to_taipei
from portal.models import AuditEvent, Institution, Job
from portal.models.authority import Appointment
from portal.models.base import utcnow
from portal.models.uploads import Upload
from portal.storage import storage_for
from tests import world as world_kit
from tests.conftest import instance_overrides, migrated_app
from tests.integration.conftest import World
from tests.integration.test_authority_screens import as_chen, signed_in, token, view
from tests.integration.test_institution_files import get_file, post, run_worker
from tests.pages import check_page
from tests.world import TAIPEI

pytestmark = pytest.mark.redis
FEE_MONTH = "11307"
FORM = {"fee_month": FEE_MONTH, "visit_kind": "op", "medical_category": "11", "month_mark": "3"}


def example_xml() -> bytes:
    """FORMATS §4.2's valid three-case 門診 claim (t37 3, t38 1,222) as Big5 bytes."""
    return samples.valid_claims_example()


def zipped(xml: bytes, name: str = "TOTFA.xml") -> bytes:
    """A ZIP holding one entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, xml)
    return buffer.getvalue()


@pytest.fixture
def world(tmp_path, test_cas, redis_url):
    """臺北虛擬診所 applies for 預檢醫療費用申報 (RWP) and 王大明 is granted it; maintenance never."""
    pki = tmp_path / "pki"
    app = migrated_app(instance_overrides(
        tmp_path, PKI_DIR=str(pki), CRL_DIR=str(pki / "crl"), PAGE_CACHE_SECONDS=0, REDIS_URL=redis_url,
        JOB_RETRY_DELAY_SECONDS=0, PACKAGE_WAIT_SECONDS=0, CLAIMS_UPLOAD_MAX_BYTES=2 * 1024 * 1024,
        UPLOAD_MAINTENANCE_START="00:00", UPLOAD_MAINTENANCE_END="00:00"))
    world_kit.trust(app, test_cas)
    made = world_kit.populate(app, test_cas)
    with app.app_context():
        taipei = Institution.get(Institution.code == TAIPEI)
        authority.save_services(taipei, ["RWM", "RWP", "IWF", "IPA"], SYSTEM)
        authority.save_grants(Appointment.get_by_id(made.appointments["wang-user"]), ["RWM", "RWP", "IWF"], SYSTEM)
    context.use_config(app.config, bind=False)
    return World(app, dict(test_cas), made.cards, made.modules)


def multipart_post(client, url: str, fields: dict, name: str, data: bytes):
    """POST a form with one file, the body built here: the test client would spool a large body
    to a temporary file that it never closes."""
    boundary = "portal-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in {**fields, "csrf_token": token(client)}.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def send(client, data: bytes, name: str = "3501200000113073B.zip", **form):
    """Submit the A.02.01 form with a file."""
    return multipart_post(client, "/precheck/upload", {**FORM, **form}, name, data)


def status_of(client, location: str):
    """The receipt page's status box."""
    return view(client, location).select_one("#upload-status")


def test_a_valid_claim_goes_from_received_to_correct(world):
    client = signed_in(world)
    form_page = view(client, "/precheck/upload")
    assert "本作業區僅限使用ZIP壓縮" in form_page.get_text()
    assert {o["value"] for o in form_page.select("#f-medical_category option") if o["value"]} >= {"11", "22"}

    response = send(client, zipped(example_xml()))
    assert response.status_code == 303
    location = response.headers["Location"]
    box = status_of(client, location)
    assert "收件" in box.get_text() and box["hx-trigger"] == "every 2s"
    assert box.select_one("a")["href"] == location  # 重新整理 without JavaScript

    run_worker(world.app)
    box = status_of(client, location)
    assert not box.has_attr("hx-get")  # polling stops once done
    text = box.get_text(" ", strip=True)
    assert "檢核正確" in text and "件數總計 3 件" in text and "點數總計 1,222 點" in text
    assert "不視為正式申報" in text
    upload = Upload.get()
    assert upload.stored_file.name == "3501200000113073B.zip"
    assert upload.stored_file.key.startswith("uploads/") and "3501200000" not in upload.stored_file.key
    assert upload.report is None
    listed = view(client, "/precheck/receipts").select("#receipt-results tbody tr")
    assert [td.get_text(strip=True) for td in listed[0].select("td")][2:] == [
        FEE_MONTH, "送核", "11 門診西醫診所", "檢核正確", "3", "1,222"]
    assert AuditEvent.select().where(AuditEvent.action == "upload").count() == 1


def test_errors_are_listed_in_a_report_downloadable_plain_and_encrypted(world):
    xml = example_xml().replace(b"<d41>356</d41>", b"<d41>357</d41>")
    client = signed_in(world)
    location = send(client, zipped(xml)).headers["Location"]
    run_worker(world.app)
    box = status_of(client, location)
    text = box.get_text(" ", strip=True)
    assert "檢核有誤" in text and "錯誤 2 筆（影響 1 件）、警告 1 筆" in text
    upload = Upload.get()
    assert (upload.result, upload.invalid_records, upload.records) == ("errors", 1, 3)

    form = box.select_one("form.dl")
    response = post(client, form["action"], {"mode": "plain", "next": location})
    assert response.status_code == 303
    run_worker(world.app)
    link = view(client, response.headers["Location"]).select_one("#package-status a.button")["href"]
    archive = zipfile.ZipFile(io.BytesIO(get_file(client, link).get_data()))
    names = archive.namelist()
    report = next(n for n in names if n.endswith("_precheck.txt"))
    text = archive.read(report).decode("cp950")
    assert "預檢醫療費用申報檢核錯誤明細表" in text and "\r\n" in text
    assert "R430" in text and "申請點數(d41)不等於合計點數減部分負擔點數。" in text
    assert "R602" in text and "申請點數總計(t38)1222與申請點數(d41)合計1223不符。" in text
    rows = archive.read(next(n for n in names if n.endswith(".csv"))).decode("cp950").splitlines()
    assert rows[0].startswith("序號,案件序,案件分類") and len(rows) == 4
    assert rows[3].endswith("R606,建議確認,總表t7與案件分類01之件數(點數)不符。")  # 729 declared, 730 summed

    response = post(client, form["action"], {"mode": "aes", "next": location})
    run_worker(world.app)
    link = view(client, response.headers["Location"]).select_one("#package-status a.button")["href"]
    with pyzipper.AESZipFile(io.BytesIO(get_file(client, link).get_data())) as encrypted:
        encrypted.setpassword(b"A123456789")
        assert "R430" in encrypted.read(report).decode("cp950")


@pytest.mark.parametrize(("data", "name", "code", "words"), [
    (b"<?xml version", "a.zip", "R101", "非ZIP格式"),
    ("zip-two", "b.zip", "R102", "只能含有一個XML檔"),
    ("zip-slip", "c.zip", "R103", "不可含路徑"),
    ("zip-bomb", "d.zip", "R105", "解壓縮後檔案過大"),
    ("doctype", "e.zip", "R205", "DOCTYPE"),
])
def test_bad_packages_are_refused_whole(world, data, name, code, words):
    xml = example_xml()
    if data == "zip-two":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("TOTFA.xml", xml)
            archive.writestr("readme.txt", b"hello")
        data = buffer.getvalue()
    elif data == "zip-slip":
        data = zipped(xml, "../TOTFA.xml")
    elif data == "zip-bomb":
        data = zipped(b"<?xml version=\"1.0\" encoding=\"Big5\"?>" + b" " * 30_000_000)
    elif data == "doctype":
        data = zipped(xml.replace(b"<outpatient>", b'<!DOCTYPE x [<!ENTITY a "b">]><outpatient>', 1))
    client = signed_in(world)
    location = send(client, data, name).headers["Location"]
    run_worker(world.app)
    upload = Upload.get()
    assert (upload.result, upload.rejected_code) == ("rejected", code)
    assert words in status_of(client, location).get_text()


def test_a_file_name_with_a_path_or_an_empty_file_is_refused_and_nothing_is_stored(world):
    client = signed_in(world)
    storage_root = world.app.config["STORAGE_DIR"]
    response = send(client, zipped(example_xml()), "..\\..\\evil.zip")
    text = status_of(client, response.headers["Location"]).get_text()
    assert "不可包含路徑或控制字元" in text
    response = send(client, b"", "empty.zip")
    assert "空檔" in status_of(client, response.headers["Location"]).get_text()
    assert [u.stored_file for u in Upload.select()] == [None, None]
    assert not list(Path(storage_root).rglob("*.bin"))
    assert Job.select().count() == 0


def test_an_oversize_upload_is_refused_from_its_length_without_a_record(world):
    client = signed_in(world)
    # A raw body: the test client would spool a built multipart body to a temporary file it never closes.
    body = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.zip\"\r\n\r\n" + b"0" * (3 * 2**20)
    response = client.post("/precheck/upload", data=body, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    assert "上傳檔案超過 2 MB 上限" in response.get_data(as_text=True)
    assert Upload.select().count() == 0


def test_form_errors_are_shown_and_nothing_is_received(world):
    client = signed_in(world)
    local = to_taipei(utcnow())
    future = f"{local.year - 1911 + 1:03d}{local.month:02d}"
    response = send(client, zipped(example_xml()), fee_month=future, medical_category="22")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "不可晚於本月" in page and "不屬於門診" in page
    response = send(client, zipped(example_xml()), fee_month="1137")
    assert "格式錯誤" in response.get_data(as_text=True)
    assert Upload.select().count() == 0


def test_the_form_month_must_match_the_file(world):
    client = signed_in(world)
    location = send(client, zipped(example_xml()), fee_month="11306").headers["Location"]
    run_worker(world.app)
    assert Upload.get().rejected_code == "R303"
    assert "總表費用年月(t3)與上傳之費用年月不符" in status_of(client, location).get_text()


def test_another_institutions_receipt_and_users_without_the_service(world):
    client = signed_in(world)
    location = send(client, zipped(example_xml())).headers["Location"]
    receipt = location.rsplit("/", 1)[1]
    with world.app.app_context():
        other = Institution.get(Institution.code != TAIPEI)
        Upload.update(institution=other).execute()
    assert client.get(location).status_code == 404
    assert AuditEvent.select().where((AuditEvent.action == "upload_view") & (AuditEvent.result == "denied")).count()
    chen = as_chen(world)  # 陳小華 holds IPA only
    assert chen.get("/precheck/upload").status_code == 403
    assert chen.get(f"/precheck/receipts/{receipt}").status_code == 403


def test_uploads_in_the_maintenance_window_wait_until_it_ends(world):
    app = world.app
    local = to_taipei(utcnow())
    app.config.update(UPLOAD_MAINTENANCE_START=f"{(local - timedelta(hours=1)):%H:00}",
                      UPLOAD_MAINTENANCE_END=f"{(local + timedelta(hours=2)):%H:00}")
    if app.config["UPLOAD_MAINTENANCE_START"] >= app.config["UPLOAD_MAINTENANCE_END"]:
        pytest.skip("the window would cross midnight at this hour")
    client = signed_in(world)
    location = send(client, zipped(example_xml())).headers["Location"]
    upload = Upload.get()
    assert upload.state == "waiting" and Job.get().state == "outbox"
    assert "仍可正常收件" in status_of(client, location).get_text()
    assert jobqueue.sweep_outbox(app.config) == 0  # not due yet
    Job.update(not_before=utcnow() - timedelta(seconds=1)).execute()
    assert jobqueue.sweep_outbox(app.config) == 1
    run_worker(app)
    assert Upload.get().result == "ok"


def test_an_upload_while_redis_is_down_is_checked_when_it_returns(world, tmp_path):
    app = world.app
    working = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"unix://{tmp_path}/nothing.sock"
    client = signed_in(world)
    location = send(client, zipped(example_xml())).headers["Location"]
    assert Job.get().state == "outbox"
    assert "恢復後將自動依序檢核" in status_of(client, location).get_text()
    app.config["REDIS_URL"] = working
    context.use_config(app.config, bind=False)
    assert jobqueue.sweep_outbox(app.config) == 1
    run_worker(app)
    assert Upload.get().result == "ok"


def test_the_report_lists_the_cap_when_there_are_more_errors(world):
    world.app.config["REPORT_MAX_ROWS"] = 1
    context.use_config(world.app.config, bind=False)
    xml = example_xml().replace(b"<d41>356</d41>", b"<d41>357</d41>")
    client = signed_in(world)
    send(client, zipped(xml))
    run_worker(world.app)
    upload = Upload.get()
    data = uploads.report_files(upload, _outcome_of(world.app, upload), utcnow())[1].decode("cp950")
    assert "本表僅列出前 1 筆，全部共 3 筆" in data


def _outcome_of(app, upload):
    """Run the check again (the report text is rebuilt from it)."""
    return uploads.run_check(app.config, storage_for(app.config), upload)


def test_receipts_query_checks_its_dates(world):
    client = signed_in(world)
    page = view(client, "/precheck/receipts?start=113/13/01&end=113/01/01")
    assert page.select_one("#receipt-results .error-box")
    page = view(client, "/precheck/receipts?start=113/02/01&end=113/01/01")
    assert "起日不可晚於迄日" in page.get_text()
    fragment = client.get("/precheck/receipts", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="receipt-results">')
    assert re.search(r"查詢期間內無預檢收件資料", fragment)


def test_icd_check_answers_per_code_as_a_page_and_as_a_fragment(world):
    client = signed_in(world)
    page = view(client, "/precheck/icd")
    assert page.select_one("textarea#f-codes") is not None
    response = post(client, "/precheck/icd", {"codes": "J06.9\nJ06 0HBDXZZ", "kind": "auto"})
    assert response.status_code == 200
    rows = [[td.get_text(strip=True) for td in tr.select("td")]
            for tr in check_page(response).select("#icd-results tbody tr")]
    assert [r[2:5] for r in rows] == [["J069", "CM", "有效"], ["J06", "CM", "無效"], ["0HBDXZZ", "PCS", "有效"]]
    listed = multipart_post(client, "/precheck/icd", {"codes": "", "kind": "auto"}, "codes.txt",
                            "I10\r\nE11.9\r\n".encode("cp950"))
    assert "共檢測 2 個代碼：有效 2 個、無效 0 個" in listed.get_data(as_text=True)
    fragment = client.post("/precheck/icd", data={"codes": "XYZ", "kind": "auto", "csrf_token": token(client)},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="icd-results"') and "格式錯誤" in fragment and "<html" not in fragment
    empty = post(client, "/precheck/icd", {"codes": "", "kind": "auto"})
    assert empty.status_code == 400 and "請輸入或上傳要檢測的代碼" in empty.get_data(as_text=True)
