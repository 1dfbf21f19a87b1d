"""醫療費用申報 XML pre-check (SPEC U1, FORMATS §2): one streaming pass, rules from the code tables.

Stages as FORMATS §2.6 orders them: the package (R1xx) and the XML form (R2xx)
and the 總表 against the form (R3xx) refuse the whole file at the first problem;
cases (R4xx), order lines (R5xx) and totals (R6xx) are collected in the same
pass, keeping only the current case, running sums and the (d1, d2) keys.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from portal.checks import archive, tables
from portal.checks.fields import (
    PASSED_MAX,
    FieldSpec,
    decimal,
    load,
    number_format,
    points,
    roc_date,
    roc_datetime,
    roc_month,
    round_half_up,
    to_roc_month,
    value_problem,
)
from portal.checks.findings import Rejected, catalogue, position
from portal.checks.outcome import Outcome
from portal.checks.xmlstream import XmlStream, has_uda
from portal.logic import national_id

ROOTS = {"op": "outpatient", "ip": "inpatient"}
FORMAT_CODES = {"op": "10", "ip": "20"}
# container -> (parent, order among its siblings); repeatable containers may follow themselves
_CONTAINERS = {"tdata": ("", 1), "ddata": ("", 2), "dhead": ("ddata", 1), "dbody": ("ddata", 2),
               "pdata": ("dbody", 10_000)}
_REPEATABLE = frozenset({"ddata", "pdata"})
_MEMO_SIZE = 50_000  # entries each per-check memo keeps before starting over
_PROBLEM_CODES = {"encoding": "R201", "declaration": "R202", "junk": "R203", "malformed": "R204",
                  "doctype": "R205", "depth": "R208", "text": "R209"}
ARCHIVE_CODES = {"not_zip": "R101", "entries": "R102", "name": "R103", "corrupt": "R104", "too_big": "R105"}
NAME_FIELDS = frozenset({"d49", "d103"})  # 姓名: Big5 造字 is mapped and flagged, not refused (FORMATS §4.4 item 17)
_ICD_CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
_ICD_PCS = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
_SHAPES = {
    "drug": re.compile(r"^[A-Z][A-Z0-9][0-9]{8}$"),
    "fee": re.compile(r"^[0-9A-Z][0-9]{4}[A-Z]$"),
    "material": re.compile(r"^[0-9A-Z]{12}$"),
    "virtual": re.compile(r"^[RS][0-9]{3}$"),
}
_ORG = re.compile(r"^[0-9]{6}[0-9A-Z]{3}[0-9]$")
_VISIT_SERIAL = re.compile(r"^(0[0-9]{3}|1[0-4][0-9]{2}|1500|IC[0-9A-Z]{2})$")
NO_MAIN_DIAGNOSIS = frozenset({"08", "28", "A3"})  # 案件分類 without d19 (R415)
_T_SUBTOTALS = (("t17", ("t7", "t9", "t11", "t13", "t15")), ("t18", ("t8", "t10", "t12", "t14", "t16")),
                ("t23", ("t19", "t21")), ("t24", ("t20", "t22")), ("t29", ("t25", "t27")), ("t30", ("t26", "t28")))


@dataclass(frozen=True)
class ClaimsForm:
    """What the A.02.01 form says about the upload, and who sends it when."""

    kind: str  # "op" 門診 | "ip" 住院
    institution: str
    fee_month: str  # YYYMM
    medical_category: str
    today: date  # Asia/Taipei
    review: bool = False  # 醫令程序審查預檢: also check order codes against the masters


@dataclass(slots=True)
class _Case:
    """The case being read: its fields, order lines and where it starts."""

    index: int
    line: int
    values: dict = field(default_factory=dict)
    orders: list = field(default_factory=list)


# What the upload indicators (SPEC U5) compare with the IC-card uploads, per 門診 case:
# (d3 ID, d9 就醫日期, d1 案件分類, d30 醫事人員, d19 主診斷, d39 合計點數, d40 部分負擔, 藥品/診療代號, d29 就醫序號)
CaseFacts = Callable[[tuple], None]
# 藥品 and 診療: the orders every card upload carries too (特材 has no settled MB2 type in 2.0, FORMATS §3.5)
_COMPARED_ORDER_TYPES = frozenset({"1", "2"})


def check_claims(upload: BinaryIO, form: ClaimsForm, limits: archive.Limits, cap: int = 10_000,
                 facts: CaseFacts | None = None) -> Outcome:
    """Check an uploaded claims ZIP; the Outcome is refused, clean, or lists what to correct.

    `facts`, when given, receives each 門診 case's CaseFacts as it is read (a 1 GB file has
    too many cases to keep them in memory).
    """
    outcome = Outcome(profile=f"claims_{form.kind}", cap=cap)
    codes = catalogue("claims_error_codes")
    stream = None
    try:
        try:
            name, stream = archive.open_single_entry(upload, limits)
        except archive.ArchiveProblem as problem:
            raise Rejected(codes.finding(ARCHIVE_CODES[problem.kind], limit=limits.max_uncompressed // 2**20)) \
                from None
        outcome.entry_name = name
        checker = ClaimsChecker(form, outcome, facts)
        try:
            checker.feed(stream)
        except archive.ArchiveProblem as problem:
            raise Rejected(codes.finding(ARCHIVE_CODES[problem.kind], limit=limits.max_uncompressed // 2**20)) \
                from None
    except Rejected as rejected:
        outcome.reject(rejected.finding)
    finally:
        if stream is not None:
            stream.close()
    return outcome


class ClaimsChecker(XmlStream):
    """The 門診 profile (住院 shares the stages; its case rules differ, see InpatientRules)."""

    def __init__(self, form: ClaimsForm, outcome: Outcome, facts: CaseFacts | None = None):
        super().__init__()
        self.form = form
        self.out = outcome
        self.facts = facts
        self.codes = catalogue("claims_error_codes")
        self.fields: dict[str, FieldSpec] = load("claims_op_fields" if form.kind == "op" else "claims_ip_fields")
        self.required = defaultdict(set)
        for spec in self.fields.values():
            if spec.required:
                self.required["ddata" if spec.section in ("dhead", "dbody") else spec.section].add(spec.tag)
        self.root = ROOTS[form.kind]
        self.stack: list[list] = []  # [tag, last order seen among its children]
        self.leaf: FieldSpec | None = None
        self.total: dict = {}
        self.case: _Case | None = None
        self.order: dict | None = None
        self.target: dict | None = None
        self.rules = OutpatientRules(self) if form.kind == "op" else InpatientRules(self)

    # -- whole-file problems -----------------------------------------------------------------------

    def refuse(self, code: str, line: int = 0, col: int = 0, **params):
        """Stop: the file is refused with this code (located when line is known)."""
        prefix = position(line, col) if line else ""
        raise Rejected(self.codes.finding(code, prefix=prefix, line=line, **params))

    def problem(self, kind: str, line: int, col: int, detail: str) -> None:
        """Undecodable bytes, a bad declaration, DOCTYPE, broken XML: refuse at that position."""
        tag = detail if kind == "depth" else (self.leaf.tag if self.leaf else "")
        self.refuse(_PROBLEM_CODES[kind], line, col, tag=tag, how="超過",
                    parent=self.stack[-1][0] if self.stack else "", detail=detail)

    # -- structure -----------------------------------------------------------------------------------

    def here(self, code: str, **params):
        """Refuse at the current position."""
        self.refuse(code, *self.position(), **params)

    # The expat handlers themselves (not XmlStream's start/end hooks): one Python call less per
    # element is a tenth of the whole check. Nine in ten elements are leaf fields in their
    # place with a plain ASCII value: those take the short paths below.
    def _start(self, tag: str, attrs) -> None:
        """Check where an element may stand and in what order (R203, R206–R208, R211)."""
        self._text = ""
        spec = self.fields.get(tag)
        if spec is not None and self.leaf is None and self.stack:
            top = self.stack[-1]
            if spec.section == top[0] and spec.order > top[1]:
                top[1] = spec.order
                self.leaf = spec
                return
        self._place(tag, spec)

    def _place(self, tag: str, spec: FieldSpec | None) -> None:
        """The general case of _start: containers, and anything out of place."""
        stack = self.stack
        if not stack:
            if tag != self.root:
                self.here("R203")
            stack.append([tag, 0])
            return
        leaf = self.leaf
        top = stack[-1]
        if spec is not None:
            if leaf is not None or spec.section != top[0]:
                self.here("R208", parent=leaf.tag if leaf else top[0], tag=tag)
            order = spec.order
        else:
            place = _CONTAINERS.get(tag)
            if place is None:
                self.here("R206", tag=tag)
            if leaf is not None or (place[0] or self.root) != top[0]:
                self.here("R208", parent=leaf.tag if leaf else top[0], tag=tag)
            order = place[1]
        last = top[1]
        if order < last or (order == last and tag not in _REPEATABLE):
            self.here("R211" if tag == "tdata" else "R207", tag=tag)
        top[1] = order
        if spec is not None:
            self.leaf = spec
            return
        if len(stack) >= self.max_depth:  # leaves cannot nest (R208), so the stack is the depth
            self.problem("depth", *self.position(), tag)
        stack.append([tag, 0])
        if tag == "ddata":
            self.out.records += 1
            self.case = _Case(self.out.records, self.parser.CurrentLineNumber)
            self.target = None
        elif tag in ("dhead", "dbody"):
            self.target = self.case.values
            self.case.values.setdefault("_" + tag, True)
        elif tag == "pdata":
            self.order = {"_line": self.parser.CurrentLineNumber}
            self.target = self.order
        elif tag == "tdata":
            self.target = self.total

    def _end(self, tag: str) -> None:
        """Store a field's value after its form checks; act on a finished section."""
        spec = self.leaf
        if spec is not None:
            self.leaf = None
            value = self._text
            passed = spec.passed
            if value in passed:
                self.target[spec.tag] = value
            elif value.isascii() and spec.fast.match(value):  # FieldSpec.fast: no further form check
                if len(passed) < PASSED_MAX:
                    passed.add(value)
                self.target[spec.tag] = value
            else:
                self._value(spec, value)
            return
        self.stack.pop()
        if tag == "pdata":
            self._require("pdata", self.order)
            self.case.orders.append(self.order)
            self.out.orders += 1
            self.order = None
            self.target = self.case.values
        elif tag == "ddata":
            case = self.case
            if "_dhead" not in case.values or "_dbody" not in case.values:
                self.here("R211")
            self._require("ddata", case.values)
            self.rules.case(case)
            self.case = None
        elif tag == "tdata":
            self._require("tdata", self.total)
            self._total_against_form()
        elif tag == self.root:
            if not self.total or not self.out.records:
                self.here("R211")
            self.rules.totals(self.total)

    def _value(self, spec: FieldSpec, raw: str) -> None:
        """R213 for an empty tag; R209/R210 for length and type; R201 for 造字 outside a name."""
        value = raw.strip()
        if not value:
            self.out.add(self.codes.finding("R213", field=spec.tag, record=self.case.index if self.case else 0,
                                            line=self.parser.CurrentLineNumber, tag=spec.tag))
            return
        wrong = value_problem(spec, value)
        if wrong == "type":
            self.refuse("R210", *self.start_position(spec.tag, raw), tag=spec.tag, fmt=number_format(spec))
        elif wrong:
            self.refuse("R209", *self.start_position(spec.tag, raw), tag=spec.tag,
                        how="不等於" if wrong == "fixed" else "超過")
        if not value.isascii() and has_uda(value):
            if spec.tag not in NAME_FIELDS:
                self.refuse("R201", *self.start_position(spec.tag, raw))
            self.out.add(self.codes.finding("R214", field=spec.tag, record=self.case.index if self.case else 0,
                                            line=self.parser.CurrentLineNumber, tag=spec.tag))
        self.target[spec.tag] = value

    def _require(self, section: str, values: dict) -> None:
        """R212: a required tag of the section is missing."""
        required = self.required[section]
        if values.keys() >= required:  # compared in place: no set is built for the usual complete section
            return
        missing = required.difference(values)
        self.here("R212", tag=min(missing, key=lambda t: self.fields[t].order))

    def _total_against_form(self) -> None:
        """Stage 3 (R301–R307): the 總表 must describe this upload, sent by this institution, now."""
        t, form = self.total, self.form
        if t.get("t1") != FORMAT_CODES[form.kind]:
            self.refuse("R301")
        if t.get("t2") != form.institution:
            self.refuse("R302")
        month = roc_month(t.get("t3"))
        if month is None or t.get("t3") != form.fee_month:
            self.refuse("R303")
        if month > (form.today.year, form.today.month):
            self.refuse("R304")
        if t.get("t4") not in ("1", "2", "3") or t.get("t5") not in ("1", "2"):
            self.refuse("R305")
        filed = roc_date(t.get("t6"))
        if filed is None or filed > form.today or (filed.year, filed.month) < month:
            self.refuse("R306")
        start, stop = t.get("t41"), t.get("t42")
        if start or stop:
            first, last = roc_date(start), roc_date(stop)
            if (first is None or last is None or first > last
                    or to_roc_month(first) != t["t3"] or to_roc_month(last) != t["t3"]):
                self.refuse("R307")


class _Rules:
    """Shared bookkeeping of the case rules: findings with the case's key, running totals."""

    def __init__(self, checker: ClaimsChecker):
        self.checker = checker
        self.out = checker.out
        self.form = checker.form
        self.codes = checker.codes
        self.case_types = tables.by_code("case_types")
        self.departments = tables.codes("departments")
        self.payment = tables.codes("payment_categories")
        self.copay = tables.by_code("copay_codes")
        self.order_types = tables.by_code("order_types_claims")
        # 醫令類別 -> the key its points are summed under (the subtotal column's p3; 5/6/7 add to 診療 with 2)
        self.subtotal_kind = {kind: _SUBTOTAL_KIND.get(row["subtotal"], kind)
                              for kind, row in self.order_types.items() if row.get("subtotal")}
        self.frequencies = tables.codes("frequencies")
        self.routes = tables.codes("routes")
        self.anomalies = tables.codes("anomaly_codes")
        self.icd_cm = tables.icd_codes("cm")
        self.icd_pcs = tables.icd_codes("pcs")
        self.masters = {"drug": tables.codes("demo_masters/drugs"), "fee": tables.codes("demo_masters/fees"),
                        "material": tables.codes("demo_masters/materials")}
        self.keys: set = set()
        self.serials: dict[str, set] = defaultdict(set)
        self.sum_claim = 0
        self.sum_copay = 0
        self.copay_cases = 0
        self.pairs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.errors_in_case = False
        self.current: _Case | None = None
        self.key: tuple = ()
        self._ids: dict[str, str] = {}
        self._times: dict[tuple, bool] = {}
        self._points: dict[tuple, int] = {}

    def flag(self, code: str, tag: str = "", order: dict | None = None, **params) -> None:
        """Add a finding for the current case (and order line)."""
        key = self.key + ((order.get(self.seq_tag, ""),) if order is not None else ("",))
        line = order["_line"] if order is not None else self.current.line
        finding = self.codes.finding(code, field=tag, record=self.current.index, key=key, line=line, tag=tag, **params)
        if finding.blocking:
            self.errors_in_case = True
        self.out.add(finding)

    def file_flag(self, code: str, tag: str = "", **params) -> None:
        """A finding about the 總表 (record 0)."""
        self.out.add(self.codes.finding(code, field=tag, key=("總表",), tag=tag, **params))

    def finish_case(self) -> None:
        """Count the case invalid when any of its findings must be corrected."""
        if self.errors_in_case:
            self.out.invalid_records += 1
            self.out.invalid_orders += len(self.current.orders)
        self.errors_in_case = False

    # -- shared value rules ------------------------------------------------------------------------

    def person(self, tag: str, value: str | None, shape_code: str, checksum_code: str) -> None:
        """An ID: checksum failure is an error; no ID shape at all gets shape_code (may be a warning)."""
        if not value:
            return
        verdict = self._ids.get(value)
        if verdict is None:  # the same doctors and patients come back case after case
            verdict = ("ok" if national_id.is_valid(value) else "checksum") if national_id.has_id_shape(value) \
                else "shape"
            self._ids[value] = verdict
            if len(self._ids) > _MEMO_SIZE:
                self._ids.clear()
        if verdict == "checksum":
            self.flag(checksum_code, tag)
        elif verdict == "shape" and shape_code:
            self.flag(shape_code, tag)

    def times(self, order: dict, first: date | None, last: date | None) -> None:
        """R507: 執行時間 起 ≤ 迄, both within the visit (first … last); remembered, as a case's order lines
        share their 執行時間 and a day's cases their dates."""
        start, stop = order.get("p14"), order.get("p15")
        if not start and not stop:
            return
        key = (start, stop, first, last)
        wrong = self._times.get(key)
        if wrong is None:
            if len(self._times) > _MEMO_SIZE:
                self._times.clear()
            wrong = self._times[key] = _times_wrong(start, stop, first, last)
        if wrong:
            self.flag("R507", "p14", order)

    def expected_points(self, quantity: str | None, price: str | None, rate: str | None) -> int:
        """點數 = round_half_up(總量 × 單價 × 支付成數 / 100), remembered: the same lines recur."""
        key = (quantity, price, rate)
        known = self._points.get(key)
        if known is None:
            known = self._points[key] = round_half_up(decimal(quantity) * decimal(price) * decimal(rate, "100") / 100)
            if len(self._points) > _MEMO_SIZE:
                self._points.clear()
        return known

    def diagnoses(self, tags: tuple[str, ...], values: dict, visit: date | None) -> None:
        """R416/R417/R419: ICD-10-CM codes without the dot, valid in the edition for the date."""
        seen = set()
        for tag in tags:
            code = values.get(tag)
            if not code:
                continue
            if not _ICD_CM.match(code):
                self.flag("R416", tag)
            elif code not in self.icd_cm:
                self.flag("R417", tag, version=icd_edition(visit))
            if code in seen:
                self.flag("R419", tag, code=code)
            seen.add(code)

    def procedures(self, tags: tuple[str, ...], values: dict) -> None:
        """R418: ICD-10-PCS codes are 7 characters without I and O."""
        for tag in tags:
            code = values.get(tag)
            if code and (not _ICD_PCS.match(code) or code not in self.icd_pcs):
                self.flag("R418", tag)

    def order_code(self, order: dict, type_tag: str, code_tag: str) -> str:
        """R501/R502/R503: the order type exists and the code has its shape (and is in the master)."""
        kind = order.get(type_tag, "")
        row = self.order_types.get(kind)
        if row is None:
            self.flag("R501", type_tag, order)
            return ""
        code = order.get(code_tag, "")
        shape = row.get("shape", "any")
        if kind == "4":  # 不得另計價: a drug, a test or a procedure
            fits = bool(_SHAPES["drug"].match(code) or _SHAPES["fee"].match(code))
            shape = "drug" if _SHAPES["drug"].match(code) else "fee"
        else:
            fits = shape not in _SHAPES or bool(_SHAPES[shape].match(code))
        if not fits:
            self.flag("R502", code_tag, order, code=code)
        elif self.form.review and shape in self.masters and code not in self.masters[shape]:
            self.flag("R503", code_tag, order, code=code, master=_MASTER_NAMES[shape])
        return kind

    def serial(self, d1: str, d2: str) -> None:
        """R402/R403: d2 counts from 1 and is unique within its 案件分類."""
        if not d2.isdigit() or int(d2) < 1:
            self.flag("R402", "d2")
            return
        number = int(d2)
        if number in self.serials[d1]:
            self.flag("R403", "d2", d1=d1, d2=d2)
        self.serials[d1].add(number)

    def serial_gaps(self) -> None:
        """R404 (warning): numbering within a 案件分類 skips numbers."""
        for d1, numbers in sorted(self.serials.items()):
            top = max(numbers)
            if top != len(numbers):
                missing = [str(n) for n in range(1, top + 1) if n not in numbers]
                shown = "、".join(missing[:10]) + ("…" if len(missing) > 10 else "")
                self.file_flag("R404", "d2", d1=d1, list=shown)


_MASTER_NAMES = {"drug": "藥品主檔", "fee": "支付標準檔", "material": "特材主檔"}


def _times_wrong(start: str | None, stop: str | None, first: date | None, last: date | None) -> bool:
    """Whether 執行時間 起/迄 (YYYMMDDHHMM) break R507: unreadable, reversed, or outside first … last."""
    begin, end = roc_datetime(start) if start else None, roc_datetime(stop) if stop else None
    if (start and (begin is None or len(start) != 11)) or (stop and (end is None or len(stop) != 11)):
        return True
    if begin and end and begin > end:
        return True
    return any(moment and first and last and not first <= moment.date() <= last for moment in (begin, end))


def icd_edition(visit: date | None) -> str:
    """The ICD-10 edition NHIA accepts for a visit date (2014 edition up to 2024, then 2023)."""
    return "2014" if visit is None or visit.year < 2025 else "2023"


def pair_for(d1: str) -> tuple[str, str] | None:
    """The 總表 件數/點數 pair a 門診 案件分類 is counted in (FORMATS §2.4.2, inferred; warnings only)."""
    if d1 == "01":
        return "t7", "t8"
    if d1 in ("02", "03", "04", "07", "09", "D4") or d1[:1] in ("B", "C", "D", "E"):
        return "t9", "t10"
    simple = {"05": ("t11", "t12"), "A2": ("t13", "t14"), "06": ("t15", "t16"), "11": ("t19", "t20"),
              "21": ("t25", "t26"), "A3": ("t31", "t32"), "08": ("t33", "t34"), "28": ("t33", "t34")}
    if d1 in simple:
        return simple[d1]
    if d1 in ("12", "13", "14", "16", "19"):
        return "t21", "t22"
    if d1 in ("22", "23", "24", "25", "29", "30", "31"):
        return "t27", "t28"
    if d1 in ("A1", "A5", "A6", "A7"):
        return "t35", "t36"
    return None


class OutpatientRules(_Rules):
    """門診 (t1 = 10) case, order-line and total rules: FORMATS §2.5, §2.6 stages 4–6."""

    seq_tag = "p13"
    _SUBTOTALS = (("1", "d32", "R424"), ("2", "d33", "R425"), ("3", "d34", "R426"))

    def case(self, case: _Case) -> None:
        """Stages 4 and 5 for one 點數清單 and its 醫令清單."""
        self.current = case
        v = case.values
        d1, d2 = v.get("d1", ""), v.get("d2", "")
        self.key = (d1, d2, v.get("d3", ""), v.get("d9", ""))
        row = self.case_types.get(d1)
        if row is None or self.form.medical_category not in row.get("medical_categories", "").split():
            self.flag("R401", "d1", x=self.form.medical_category)
        self.serial(d1, d2)
        self.person("d3", v.get("d3"), "R406", "R405")
        visit = roc_date(v.get("d9"))
        if visit is None:
            self.flag("R408", "d9")
        birth = v.get("d11")
        born = roc_date(birth)
        if birth and not birth.startswith("-") and (born is None or (visit and born > visit)):
            self.flag("R407", "d11")
        ended = roc_date(v.get("d10")) if v.get("d10") else None
        if v.get("d10") and (ended is None or (visit and ended < visit)):
            self.flag("R409", "d10")
        last_day = ended or visit
        if last_day and to_roc_month(last_day) != self.checker.total.get("t3"):
            self.flag("R410", "d10" if ended else "d9")
        if v.get("d8") not in self.departments:
            self.flag("R411", "d8")
        if v.get("d14") not in self.payment:
            self.flag("R412", "d14")
        copay_row = self.copay.get(v.get("d15", ""))
        if copay_row is None:
            self.flag("R413", "d15")
        total, copay, claim = points(v.get("d39")), points(v.get("d40")), points(v.get("d41"))
        if copay_row is not None and copay_row.get("exempt") == "1" and copay > 0:
            self.flag("R414", "d40", d15=v["d15"])
        if not v.get("d19") and d1 not in NO_MAIN_DIAGNOSIS:
            self.flag("R415", "d19")
        self.diagnoses(("d19", "d20", "d21", "d22", "d23"), v, visit)
        self.procedures(("d24", "d25", "d26"), v)
        serial = v.get("d29", "")
        if serial and not (_VISIT_SERIAL.match(serial) and serial != "0000") and serial not in self.anomalies:
            self.flag("R420", "d29")
        self.person("d30", v.get("d30"), "R421", "R421")
        self.person("d31", v.get("d31"), "R421", "R421")
        if v.get("d28") not in (None, "0", "1", "2", "6"):
            self.flag("R422", "d28")
        sums, drug_days, firsts, compared = self.orders(case, visit, ended or visit)
        if drug_days is not None and points(v.get("d27")) < drug_days:
            self.flag("R423", "d27")
        for kind, tag, code in self._SUBTOTALS:
            if points(v.get(tag)) != sums[kind]:
                self.flag(code, tag, a=points(v.get(tag)), b=sums[kind])
        for kind, code_tag, points_tag, code in (("0", "d35", "d36", "R427"), ("9", "d37", "d38", "R428")):
            if points(v.get(points_tag)) != sums[kind] or (
                    kind in firsts and v.get(code_tag) and v.get(code_tag) != firsts[kind]):
                self.flag(code, points_tag)
        parts = sum(points(v.get(t)) for t in ("d32", "d33", "d34", "d36", "d38"))
        if total != parts:
            self.flag("R429", "d39", a=total, b=parts)
        if claim != total - copay:
            self.flag("R430", "d41")
        if copay < 0 or copay > total:
            self.flag("R431", "d40")
        supplement = self.checker.total.get("t5")
        if (supplement == "1" and v.get("d12")) or (supplement == "2" and v.get("d12") not in ("1", "2")):
            self.flag("R432", "d12")
        newborn = v.get("d45")
        if bool(newborn) != bool(v.get("d51")) or (newborn and (roc_date(newborn) is None or (
                visit and roc_date(newborn) > visit))):
            self.flag("R433", "d45")
        if not case.orders:
            self.flag("R434")
        if self.checker.facts is not None:
            self.checker.facts((v.get("d3", ""), v.get("d9", ""), d1, v.get("d30", ""), v.get("d19", ""), total, copay,
                                " ".join(compared),
                                v.get("d29", "")))
        self.sum_claim += claim
        self.sum_copay += copay
        self.copay_cases += copay > 0
        pair = pair_for(d1)
        if pair:
            self.pairs[pair[0]][0] += 1
            self.pairs[pair[0]][1] += claim
        self.finish_case()

    def orders(self, case: _Case, first: date | None, last: date | None) -> tuple[dict, int | None, dict, list]:
        """Stage 5 for every order line. Returns, from the same pass: Σp12 by 醫令類別 (subtotal column),
        the longest 給藥日份 of a drug line (None without one), the first p4 of each p3, and the 藥品/診療
        codes the upload indicators compare."""
        sums = defaultdict(int)
        sequence = []
        days = None
        firsts: dict[str, str] = {}
        compared = []
        for order in case.orders:
            p3 = order.get("p3")
            firsts.setdefault(p3, order.get("p4"))
            if p3 in _COMPARED_ORDER_TYPES:
                compared.append(order.get("p4", ""))
            if p3 == "1" and order.get("p1"):
                length = points(order["p1"])
                days = length if days is None or length > days else days
            kind = self.order_code(order, "p3", "p4")
            declared = points(order.get("p12"))
            expected = self.expected_points(order.get("p10"), order.get("p11"), order.get("p8"))
            if declared != expected:
                self.flag("R505", "p12", order, a=declared, b=expected)
            subtotal = self.subtotal_kind.get(kind)
            if subtotal is not None:
                sums[subtotal] += declared
            if kind == "1":
                if not (order.get("p1") and order.get("p7") and order.get("p9")):
                    self.flag("R506", "p1", order)
                elif order["p7"] not in self.frequencies or order["p9"] not in self.routes:
                    self.flag("R510", "p7", order)
            self.times(order, first, last)
            self.person("p16", order.get("p16"), "R508", "R508")
            org = order.get("p24")
            if org and not _ORG.match(org):
                self.flag("R509", "p24", order)
            if order.get("p20") and order["p20"] not in self.departments:
                self.flag("R411", "p20", order)
            sequence.append(order.get("p13", ""))
        numbers = [int(s) for s in sequence if s.isdigit()]
        if sorted(numbers) != list(range(1, len(sequence) + 1)):
            self.flag("R504", "p13")
        return sums, days, firsts, compared

    def totals(self, t: dict) -> None:
        """Stage 6: the 總表 against the cases read."""
        out = self.out
        out.declared_records, out.declared_points = points(t.get("t37")), points(t.get("t38"))
        if out.declared_records != out.records:
            self.file_flag("R601", "t37", a=out.declared_records, b=out.records)
        if out.declared_points != self.sum_claim:
            self.file_flag("R602", "t38", a=out.declared_points, b=self.sum_claim)
        if "t40" in t and points(t["t40"]) != self.sum_copay:
            self.file_flag("R603", "t40", a=points(t["t40"]), b=self.sum_copay)
        if "t39" in t and points(t["t39"]) != self.copay_cases:
            self.file_flag("R604", "t39", a=points(t["t39"]), b=self.copay_cases)
        for total_tag, parts in _T_SUBTOTALS:
            present = total_tag in t or any(p in t for p in parts)
            if present and points(t.get(total_tag)) != sum(points(t.get(p)) for p in parts):
                self.file_flag("R605", total_tag)
        declared = {tag for tag in _PAIR_LABELS if tag in t or f"t{int(tag[1:]) + 1}" in t}
        for count_tag in sorted(declared | set(self.pairs), key=lambda tag: int(tag[1:])):
            count, claimed = self.pairs.get(count_tag, (0, 0))
            points_tag = f"t{int(count_tag[1:]) + 1}"
            if points(t.get(count_tag)) != count or points(t.get(points_tag)) != claimed:
                self.file_flag("R606", count_tag, d1=_pair_label(count_tag))
        self.serial_gaps()


# subtotal column -> the p3 key the sums are kept under (5/6/7 add to 診療 d33 with 2)
_SUBTOTAL_KIND = {"d36": "0", "d32": "1", "d33": "2", "d34": "3", "d38": "9"}


_PAIR_LABELS = {"t7": "01", "t9": "西醫專案", "t11": "05", "t13": "A2", "t15": "06", "t19": "11", "t21": "牙醫專案",
                "t25": "21", "t27": "中醫專案", "t31": "A3", "t33": "08、28", "t35": "居家"}


def _pair_label(count_tag: str) -> str:
    """Which 案件分類 a 總表 pair counts, for R606's message."""
    return _PAIR_LABELS.get(count_tag, count_tag)


# 住院 uses the 門診 R-codes for the same checks (FORMATS §4.4 item 13); their messages name the 門診
# tags, so each message is rewritten to the 住院 tag it is about.
IP_TAGS = {"d39": "d83", "d40": "d84", "d41": "d85", "p12": "p18", "p10": "p16", "p11": "p17", "p8": "p4",
           "p13": "p1", "t37": "t28", "t38": "t30", "t39": "t19", "t40": "t21", "d19": "d25", "d9": "d10",
           "d10": "d11", "d11": "d6", "d29": "d17", "d30": "d20", "p3": "p2", "p4": "p3", "p16": "p20",
           "p24": "p26", "d14": "d7", "d15": "d4", "d8": "d9", "d12": "d5", "d45": "d100", "d51": "d101",
           "p14": "p14", "p15": "p15"}
_TAG_IN_MESSAGE = re.compile(r"(?<=[(、])([dpt][0-9]+)(?=[)、])")
_IP_FEES = tuple(f"d{n}" for n in range(66, 83))
_IP_DIAGNOSES = tuple(f"d{n}" for n in range(25, 45))
_IP_PROCEDURES = tuple(f"d{n}" for n in range(45, 65))


class InpatientRules(OutpatientRules):
    """住院 (t1 = 20) case, order-line and total rules: FORMATS §2.3b with the 門診 codes."""

    seq_tag = "p1"

    def flag(self, code: str, tag: str = "", order: dict | None = None, **params) -> None:
        """As 門診, with the message naming 住院 tags."""
        before = len(self.out.listed)
        super().flag(code, tag, order, **params)
        self._retag(before)

    def file_flag(self, code: str, tag: str = "", **params) -> None:
        """As 門診, with the message naming 住院 tags."""
        before = len(self.out.listed)
        super().file_flag(code, tag, **params)
        self._retag(before)

    def _retag(self, before: int) -> None:
        """Rewrite the 門診 tags in the message of the finding just listed (if it was, under the cap)."""
        if len(self.out.listed) > before:
            finding = self.out.listed[-1]
            finding.message = _TAG_IN_MESSAGE.sub(lambda m: IP_TAGS.get(m.group(1), m.group(1)), finding.message)

    def case(self, case: _Case) -> None:
        """One stay: dates, codes, people, diagnoses, the fee columns and the order lines."""
        self.current = case
        v = case.values
        d1, d2 = v.get("d1", ""), v.get("d2", "")
        self.key = (d1, d2, v.get("d3", ""), v.get("d10", ""))
        if not re.fullmatch(r"[0-9A-Z]{1,2}", d1) or self.form.medical_category not in ("21", "22"):
            self.flag("R401", "d1", x=self.form.medical_category)
        self.serial(d1, d2)
        self.person("d3", v.get("d3"), "R406", "R405")
        admitted = roc_date(v.get("d10"))
        if admitted is None:
            self.flag("R408", "d10")
        born = roc_date(v.get("d6"))
        if v.get("d6") and not v["d6"].startswith("-") and (born is None or (admitted and born > admitted)):
            self.flag("R407", "d6")
        left = roc_date(v.get("d11")) if v.get("d11") else None
        if v.get("d11") and (left is None or (admitted and left < admitted)):
            self.flag("R409", "d11")
        period_end = roc_date(v.get("d13")) if v.get("d13") else None
        last_day = period_end or left or admitted
        if last_day and to_roc_month(last_day) != self.checker.total.get("t3"):
            self.flag("R410", "d13" if period_end else ("d11" if left else "d10"))
        if v.get("d9") not in self.departments:
            self.flag("R411", "d9")
        if v.get("d7") not in self.payment:
            self.flag("R412", "d7")
        copay_row = self.copay.get(v.get("d4", "")) if v.get("d4") else None
        if v.get("d4") and copay_row is None:
            self.flag("R413", "d4")
        total, copay, claim = points(v.get("d83")), points(v.get("d84")), points(v.get("d85"))
        if copay_row is not None and copay_row.get("exempt") == "1" and copay > 0:
            self.flag("R414", "d84", d15=v["d4"])
        if not v.get("d25"):
            self.flag("R415", "d25")
        self.diagnoses(_IP_DIAGNOSES, v, admitted)
        self.procedures(_IP_PROCEDURES, v)
        serial = v.get("d17", "")
        if serial and not (_VISIT_SERIAL.match(serial) and serial != "0000") and serial not in self.anomalies:
            self.flag("R420", "d17")
        self.person("d20", v.get("d20"), "R421", "R421")
        self.orders(case, admitted, left or period_end or admitted)
        fees = sum(points(v.get(t)) for t in _IP_FEES)
        if total != fees:
            self.flag("R429", "d83", a=total, b=fees)
        if claim != total - copay:
            self.flag("R430", "d85")
        if copay < 0 or copay > total:
            self.flag("R431", "d84")
        supplement = self.checker.total.get("t5")
        if (supplement == "1" and v.get("d5")) or (supplement == "2" and v.get("d5") not in ("1", "2")):
            self.flag("R432", "d5")
        newborn = v.get("d100")
        if bool(newborn) != bool(v.get("d101")) or (newborn and (roc_date(newborn) is None or (
                admitted and roc_date(newborn) > admitted))):
            self.flag("R433", "d100")
        if not case.orders:
            self.flag("R434")
        if v.get("d65") and points(v["d65"]) != len(case.orders):
            self.flag("R435", "d65")
        self.sum_claim += claim
        self.sum_copay += copay
        self.copay_cases += copay > 0
        self.finish_case()

    def orders(self, case: _Case, first: date | None, last: date | None) -> dict[str, int]:
        """Stage 5 for the 住院 order lines (p2 type, p3 code, p18 = p16 × p17 × p4 / 100, p1 sequence)."""
        sequence = []
        for order in case.orders:
            self.order_code(order, "p2", "p3")
            declared = points(order.get("p18"))
            expected = self.expected_points(order.get("p16"), order.get("p17"), order.get("p4"))
            if declared != expected:
                self.flag("R505", "p18", order, a=declared, b=expected)
            self.times(order, first, last)
            self.person("p20", order.get("p20"), "R508", "R508")
            org = order.get("p26")
            if org and not _ORG.match(org):
                self.flag("R509", "p26", order)
            if order.get("p22") and order["p22"] not in self.departments:
                self.flag("R411", "p22", order)
            sequence.append(order.get("p1", ""))
        numbers = [int(s) for s in sequence if s.isdigit()]
        if sorted(numbers) != list(range(1, len(sequence) + 1)):
            self.flag("R504", "p1")
        return {}

    def totals(self, t: dict) -> None:
        """Stage 6 for 住院: t28 cases, t30 points; t19/t21 copay (warnings)."""
        out = self.out
        out.declared_records, out.declared_points = points(t.get("t28")), points(t.get("t30"))
        if out.declared_records != out.records:
            self.file_flag("R601", "t28", a=out.declared_records, b=out.records)
        if out.declared_points != self.sum_claim:
            self.file_flag("R602", "t30", a=out.declared_points, b=self.sum_claim)
        if "t21" in t and points(t["t21"]) != self.sum_copay:
            self.file_flag("R603", "t21", a=points(t["t21"]), b=self.sum_copay)
        if "t19" in t and points(t["t19"]) != self.copay_cases:
            self.file_flag("R604", "t19", a=points(t["t19"]), b=self.copay_cases)
        self.serial_gaps()
