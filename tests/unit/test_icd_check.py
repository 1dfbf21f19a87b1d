"""A.02.04 ICD-10-CM/PCS 有效碼檢測: the verdict and its reason for each kind of code a user pastes."""

from __future__ import annotations

from portal.checks import icd


def verdicts(text: str, kind: str = "auto") -> list[tuple[str, bool, str]]:
    results, error = icd.check_codes(text, kind)
    assert error is None
    return [(r.code, r.valid, r.reason) for r in results]


def test_valid_codes_with_and_without_dots():
    rows = verdicts("J069\nJ06.9, I10；0HBDXZZ")
    assert [(code, valid) for code, valid, _ in rows] == [("J069", True), ("J069", True), ("I10", True),
                                                          ("0HBDXZZ", True)]
    assert rows[1][2] == "有效碼；申報時小數點免填，請填寫 J069。"


def test_invalid_codes_say_why():
    rows = dict((code, reason) for code, _, reason in verdicts("J06 XYZ Q999999 0HBDXZI"))
    assert rows["J06"] == "非末碼（分類碼），請填寫至最細分類碼。"
    assert rows["XYZ"].startswith("格式錯誤：ICD-10-CM")
    assert rows["Q999999"] == "非有效之 ICD-10-CM 診斷代碼。"
    assert rows["0HBDXZI"].startswith("格式錯誤：ICD-10-PCS")


def test_the_kind_can_be_forced():
    assert verdicts("0HBDXZZ", "cm")[0][1] is False  # a procedure code is no diagnosis
    assert verdicts("J069", "pcs")[0][1] is False


def test_empty_too_many_and_junk_input_are_refused_whole():
    assert icd.check_codes(" \n ", "auto") == ([], "請輸入或上傳要檢測的代碼。")
    results, error = icd.check_codes(" ".join(["I10"] * (icd.MAX_CODES + 1)))
    assert results == [] and "一次最多檢測 1000 個代碼" in error
    assert icd.check_codes("<script>alert(1)</script>" * 3)[1] == "代碼長度過長，請確認輸入內容為 ICD-10 代碼。"
