"""A.02.04 ICD-10-CM/PCS 有效碼檢測 (SPEC U1): is each code one NHIA accepts, and if not, why.

Codes are written without the dot in claims (FORMATS §1.6); a user may paste them
with dots, spaces, commas or one per line. The lists are the shipped demo lists
(portal/data/checks/ICD_SOURCES.md), the same the claims check uses for R417/R418.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from portal.checks import tables

MAX_CODES = 1000
_SPLIT = re.compile(r"[\s,;，、；]+")
_CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
_PCS = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
KINDS = {"auto": "自動判別", "cm": "ICD-10-CM（診斷）", "pcs": "ICD-10-PCS（處置）"}


@dataclass(frozen=True)
class CodeResult:
    """One code as typed, the code as claims carry it, its kind, and the verdict in words."""

    typed: str
    code: str
    kind: str  # "cm" | "pcs" | ""
    valid: bool
    reason: str


def split_codes(text: str) -> list[str]:
    """The codes in pasted text or an uploaded list, in order, without blanks."""
    return [part for part in _SPLIT.split(text or "") if part]


@cache
def _cm_prefixes() -> frozenset[str]:
    """Every leading part (3 to 6 characters) of a valid CM code: the category headers."""
    return frozenset(code[:n] for code in tables.icd_codes("cm") for n in range(3, len(code)))


def check_code(typed: str, kind: str = "auto") -> CodeResult:
    """The verdict for one code."""
    code = typed.strip().upper().replace(".", "")
    dotted = "." in typed
    if kind == "auto":
        kind = "pcs" if len(code) == 7 and code[0].isdigit() else "cm"
    if kind == "pcs":
        if not _PCS.match(code):
            return CodeResult(typed, code, "pcs", False, "格式錯誤：ICD-10-PCS 為 7 碼英數字（不含 I、O）。")
        if code not in tables.icd_codes("pcs"):
            return CodeResult(typed, code, "pcs", False, "非有效之 ICD-10-PCS 處置代碼。")
        return CodeResult(typed, code, "pcs", True, "有效碼。")
    if not _CM.match(code):
        return CodeResult(typed, code, "cm", False,
                          "格式錯誤：ICD-10-CM 為 3 至 7 碼，首碼為英文字母、次碼為數字。")
    if code not in tables.icd_codes("cm"):
        if code in _cm_prefixes():
            return CodeResult(typed, code, "cm", False, "非末碼（分類碼），請填寫至最細分類碼。")
        return CodeResult(typed, code, "cm", False, "非有效之 ICD-10-CM 診斷代碼。")
    note = "有效碼；申報時小數點免填，請填寫 " + code + "。" if dotted else "有效碼。"
    return CodeResult(typed, code, "cm", True, note)


def check_codes(text: str, kind: str = "auto") -> tuple[list[CodeResult], str | None]:
    """Verdicts for every code in text (at most MAX_CODES), or a zh-TW reason to check none."""
    typed = split_codes(text)
    if not typed:
        return [], "請輸入或上傳要檢測的代碼。"
    if len(typed) > MAX_CODES:
        return [], f"一次最多檢測 {MAX_CODES} 個代碼（本次 {len(typed)} 個），請分批檢測。"
    if any(len(code) > 20 for code in typed):
        return [], "代碼長度過長，請確認輸入內容為 ICD-10 代碼。"
    return [check_code(code, kind if kind in KINDS else "auto") for code in typed], None
