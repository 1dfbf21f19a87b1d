"""Pure rules of receiving uploads: the maintenance window, file names, the HIS API's signed text."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.logic import his_api, uploads
from portal.logic.roc_dates import taipei_to_utc

WINDOW = {"UPLOAD_MAINTENANCE_START": "05:00", "UPLOAD_MAINTENANCE_END": "08:00"}


@pytest.mark.parametrize(("taipei", "waits"), [
    ("04:59:59", False), ("05:00:00", True), ("07:59:59", True), ("08:00:00", False), ("21:30:00", False)])
def test_uploads_inside_the_maintenance_window_wait_for_its_end(taipei, waits):
    day = datetime(2026, 11, 23).date()
    hour, minute, second = (int(x) for x in taipei.split(":"))
    now = taipei_to_utc(day, datetime(2026, 1, 1, hour, minute, second).time())
    end = uploads.window_end(WINDOW, now)
    assert (end is not None) == waits
    if waits:
        assert end == taipei_to_utc(day, datetime(2026, 1, 1, 8, 0).time())


@pytest.mark.parametrize("name", ["../TOTFA.zip", "a/b.zip", "C:\\x.zip", "bad\x00name.zip", "tab\tname.zip",
                                  "x" * 201 + ".zip"])
def test_names_with_paths_or_control_characters_are_refused(name):
    assert uploads.name_problem(name)


def test_plain_names_pass_and_are_shown_without_paths():
    assert uploads.name_problem("3501200000111130713B.zip") is None
    assert uploads.name_problem("健保卡 上傳 1130702.xml") is None
    assert uploads.display_name("C:\\HIS\\out\\day\x07.xml") == "day.xml"


def test_the_signed_text_binds_institution_action_body_time_and_nonce():
    text = his_api.signed_text("3501200000", "ic", "ab" * 32, "2026-11-23T00:00:00Z", "n" * 16)
    assert text == ("NHI-VPN-UPLOAD/1\n3501200000\nic\n" + "ab" * 32 + "\n2026-11-23T00:00:00Z\n" + "n" * 16).encode()


def test_missing_or_malformed_signature_headers_are_named():
    with pytest.raises(his_api.ApiError) as missing:
        his_api.read_headers({"X-NHI-Signature": "x"})
    assert missing.value.status == 401 and "X-NHI-Module-Certificate" in missing.value.message
    headers = {name: "x" for name in his_api.HEADERS.values()}
    with pytest.raises(his_api.ApiError) as bad_nonce:
        his_api.read_headers(headers)
    assert bad_nonce.value.status == 400
