"""What a check finds: one Finding per problem, graded by severity, worded from the code tables."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from portal.checks import tables

# reject_file: the whole upload is refused and nothing else is checked (NHIA's 退件);
# reject_record: the case / REC is invalid (counted as 無效明細); error: listed in the 明細表 and the
# claims check is not 「檢核正確」; warn: listed for the user to confirm, the result stays correct.
SEVERITIES = ("reject_file", "reject_record", "error", "warn")
SEVERITY_LABELS = {"reject_file": "退件", "reject_record": "必須修正", "error": "必須修正", "warn": "建議確認"}


@dataclass(slots=True)
class Finding:
    """One problem in an upload, located as precisely as the format allows."""

    code: str
    message: str
    severity: str
    field: str = ""
    record: int = 0  # 1-based position of the case (claims) or REC (IC); 0 = the file or its 總表
    key: tuple = ()  # what identifies the record to the user (claims: d1, d2, d3, d9, p13; IC: id, 類別, 時間, 識別碼)
    line: int = 0

    @property
    def blocking(self) -> bool:
        """Whether it makes the case / record (or file) fail, rather than ask for a look."""
        return self.severity != "warn"

    @property
    def severity_label(self) -> str:
        """必須修正 / 建議確認 / 退件."""
        return SEVERITY_LABELS.get(self.severity, self.severity)


class Rejected(Exception):  # noqa: N818 - reads as "raise Rejected(finding)"
    """The whole file is refused; carries the one finding that says why."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


class Catalogue:
    """Codes of one format (claims R-codes or NHIA's IC codes) with severity and zh-TW message."""

    def __init__(self, table: str):
        self.rows = tables.by_code(table)

    def finding(self, code: str, *, field: str = "", record: int = 0, key: tuple = (), line: int = 0,
                prefix: str = "", **params) -> Finding:
        """A finding for code, its message filled from params (missing ones left visible, never a crash)."""
        row = self.rows.get(code) or {"message": code, "severity": "reject_record"}
        return Finding(code, prefix + _fill(row["message"], params), row["severity"], field, record, key, line)

    def severity(self, code: str) -> str:
        """The severity a code carries."""
        row = self.rows.get(code)
        return row["severity"] if row else "reject_record"


class _Keep(dict):
    """format_map mapping that leaves unknown placeholders as written."""

    def __missing__(self, key):
        return "{" + key + "}"


def _fill(template: str, params: dict) -> str:
    """Fill {placeholders}; a template typo shows the placeholder instead of failing the check."""
    try:
        return template.format_map(_Keep(params))
    except (ValueError, IndexError):
        return template


@lru_cache(maxsize=4)
def catalogue(table: str) -> Catalogue:
    """The shared catalogue of a code table."""
    return Catalogue(table)


def position(line: int, col: int) -> str:
    """NHIA's location prefix: 第[n]列；第[m]字元； (1-based line and character)."""
    return f"第[{line}]列；第[{col}]字元；"
