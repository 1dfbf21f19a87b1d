"""The result of one check: counters for the screens, findings for the reports (capped)."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from portal.checks.findings import Finding


@dataclass
class Outcome:
    """What a check found. Counters are exact; `listed` keeps at most `cap` findings, in file order."""

    profile: str
    cap: int = 10_000
    rejected: Finding | None = None
    records: int = 0  # cases (claims) or RECs (IC) read
    invalid_records: int = 0
    orders: int = 0  # pdata (claims) or MB2 (IC) read
    invalid_orders: int = 0
    declared_records: int | None = None  # claims t37: 件數總計 as the 總表 states it
    declared_points: int | None = None  # claims t38: 點數總計
    entry_name: str = ""
    version: str = ""  # IC "1.0" / "2.0"
    counts: Counter = field(default_factory=Counter)  # findings by severity
    codes: Counter = field(default_factory=Counter)  # findings by code
    listed: list[Finding] = field(default_factory=list)
    # IC: every REC as (pid, visit, category, format, valid, doctor, main dx, fee, copay, order codes), stored for
    # the history checks (C001, Y009) and the upload indicators (SPEC U5)
    keys: list[tuple] = field(default_factory=list)
    cases: Spool | None = None  # claims: each 門診 case's facts, when the caller asked for them

    def add(self, finding: Finding) -> None:
        """Count a finding and keep it for the report while under the cap."""
        self.counts[finding.severity] += 1
        self.codes[finding.code] += 1
        if len(self.listed) < self.cap:
            self.listed.append(finding)

    def reject(self, finding: Finding) -> None:
        """The whole file is refused: that one finding is the result."""
        self.rejected = finding
        self.listed = [finding]
        self.counts = Counter({finding.severity: 1})
        self.codes = Counter({finding.code: 1})

    @property
    def total_findings(self) -> int:
        """How many findings there were, listed or not."""
        return sum(self.counts.values())

    @property
    def truncated(self) -> bool:
        """Whether the report lists fewer findings than were found."""
        return self.total_findings > len(self.listed)

    @property
    def errors(self) -> int:
        """Findings that must be corrected."""
        return self.total_findings - self.counts["warn"]

    @property
    def warnings(self) -> int:
        """Findings the user is asked to confirm."""
        return self.counts["warn"]

    @property
    def ok(self) -> bool:
        """「檢核正確」 (claims) / 「檢核無誤」 (IC): not refused and nothing to correct."""
        return self.rejected is None and self.errors == 0

    @property
    def valid_records(self) -> int:
        """有效明細."""
        return self.records - self.invalid_records

    @property
    def valid_orders(self) -> int:
        """有效醫令."""
        return self.orders - self.invalid_orders

    def summary(self) -> dict:
        """The counters as plain values, for the upload's database row."""
        return {
            "profile": self.profile, "version": self.version, "entry_name": self.entry_name,
            "rejected": self.rejected.code if self.rejected else "",
            "records": self.records, "invalid_records": self.invalid_records,
            "orders": self.orders, "invalid_orders": self.invalid_orders,
            "declared_records": self.declared_records, "declared_points": self.declared_points,
            "errors": self.errors, "warnings": self.warnings, "listed": len(self.listed),
            "codes": dict(self.codes.most_common(50)),
        }


class Spool:
    """Rows of short strings kept in a temporary file as they come and read back once.

    The case facts of a 1 GB claims file (hundreds of thousands of cases) stay off the heap.
    """

    def __init__(self, in_memory: int = 8 * 2**20):
        # in memory up to a clinic's month of cases, on disk past that; owned by the Spool
        self._file = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115
        self.count = 0

    def __del__(self):
        # A caller that never got to close() (a check whose result was not recorded) drops the file here.
        self._file.close()

    def append(self, row: tuple) -> None:
        """Keep one row (tabs and line breaks inside values become spaces)."""
        line = "\t".join(map(str, row))
        if line.count("\t") != len(row) - 1 or "\n" in line or "\r" in line:  # rare: flatten value by value
            line = "\t".join(str(v).replace("\t", " ").replace("\r", " ").replace("\n", " ") for v in row)
        self._file.write(line.encode("utf-8", "replace") + b"\n")
        self.count += 1

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        self._file.seek(0)
        for line in self._file:
            yield tuple(line.decode("utf-8").rstrip("\n").split("\t"))

    def close(self) -> None:
        """Drop the file."""
        self._file.close()
