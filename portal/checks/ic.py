"""健保卡就醫資料上傳 checks (SPEC U2/U3, FORMATS §3): versions 1.0 and 2.0 from one engine.

The version is read from the first <MSH> (A00 → 1.0, H00 → 2.0). Rules are
written once against roles ("visit", "serial" …) that name a tag per version;
NHIA's own codes and messages come from ic_error_codes. History checks (C001,
C002, Y009, Y010) need stored keys: the checker collects every REC's key and
asks a `history` callable once per batch at the end, so a file of 12,000 RECs
costs a few queries, not 12,000.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO

from portal.checks import archive, tables
from portal.checks.fields import PASSED_MAX, FieldSpec, decimal, load, roc_date, roc_datetime, value_problem
from portal.checks.findings import Rejected, catalogue
from portal.checks.outcome import Outcome
from portal.checks.xmlstream import XmlStream, has_uda
from portal.logic import national_id

# role -> (1.0 tag, 2.0 tag); None where a version has no such field
ROLES = {
    "type": ("A00", "H00"), "format": ("A01", "H01"), "version": ("A02", None),
    "sam": ("A16", "M01"), "card": ("A11", "M02"), "pid": ("A12", "M03"), "birth": ("A13", "M04"),
    "org": ("A14", "M05"), "doctor": ("A15", "M06"), "category": ("A23", "M07"), "nb_birth": ("A20", "M08"),
    "nb_twins": ("A21", "M09"), "nb_mark": ("A24", "M10"), "visit": ("A17", "M11"), "reissue": ("A19", "M12"),
    "serial": ("A18", "M13"), "signature": ("A22", "M14"), "visit_id": (None, "M15"),
    "op_fee": ("A31", "M44"), "op_copay": ("A32", "M45"), "ip_fee": ("A33", "M46"), "ip_copay": ("A34", "M47"),
    "actual": ("A54", "M49"), "service": ("A41", None), "service_item": ("A44", None),
    "service_org": ("A43", None), "prenatal_org": ("A52", None),
    "order_time": ("A71", "D01"), "order_type": ("A72", "D02"), "order_seq": (None, "D03"),
    "order_code": ("A73", "D06"), "site": ("A74", "D07"), "usage": ("A75", "D08"), "days": ("A76", "D09"),
    "quantity": ("A77", "D10"), "dispense": ("A78", None), "order_signature": ("A79", "D11"),
}
DIAGNOSES = (("A25", "A26", "A27", "A28", "A29", "A30"), ("M35", "M36", "M37", "M38", "M39", "M40"))
_PROBLEM_CODES = {"encoding": "Y014", "declaration": "Y002", "junk": "Y015", "malformed": "Y003",
                  "doctype": "Y003", "depth": "Y005", "text": "Y003"}
ARCHIVE_CODES = {"not_zip": "Y003", "entries": "Y003", "name": "Y003", "corrupt": "Y003", "too_big": "Y003"}
NORMAL = {"1.0": frozenset({"1", "3"}), "2.0": frozenset({"A", "C", "D", "E"})}
ANOMALY = {"1.0": frozenset({"2", "4"}), "2.0": frozenset({"B"})}
CUMULATIVE = {"1.0": frozenset({"01", "02", "03", "04", "05", "06", "07", "08"}),
              "2.0": frozenset({"01", "02", "03", "04", "05", "06", "07", "08", "09"})}
_FEES_REQUIRED = frozenset({"01", "02", "03", "04", "06", "07", "08"})
_DISCHARGE = frozenset({"BB", "DC", "BF"})
_NEEDS_ORDERS = frozenset({"AE", "AF", "AG", "BC"})
# 藥品 order types: 1.0 A72 1/2/A/B; 2.0 redefined D02 (1 藥品, 2 支付標準)
DRUG_TYPES = {"1.0": frozenset({"1", "2", "A", "B"}), "2.0": frozenset({"1"})}
_ALNUM = re.compile(r"^[0-9A-Za-z]+$")
_VIRTUAL = re.compile(r"^R00[1-4]$")
_ICD_CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
_TIME = re.compile(r"^([0-5][0-9]){2}$")
_TEETH_CODES = ("89", "90", "91", "92")
_NOT_ORDER_LINES = ("A80", "A81", "E01", "E02", "E04", "V01", "V02")
HISTORY_BATCH = 500
MAX_ORDERS_2_0 = 500


@dataclass(frozen=True)
class IcForm:
    """Who uploads, and when (Asia/Taipei, naive)."""

    institution: str
    received_at: datetime


@dataclass
class _Rec:
    """The REC being read."""

    index: int
    line: int
    header: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    orders: list = field(default_factory=list)
    sections: list = field(default_factory=list)
    blocking: bool = False


@dataclass(frozen=True)
class RecKey:
    """What identifies a visit record across uploads (FORMATS §6.7)."""

    pid: str
    visit: str
    category: str


# history(keys) -> {key: [(format, valid), …]} for RECs stored from earlier uploads
History = Callable[[list[RecKey]], dict[RecKey, list[tuple[str, bool]]]]


def no_history(keys: list[RecKey]) -> dict:
    """A history with nothing stored (pre-checks do not compare with earlier uploads)."""
    return {}


def check_ic(upload: BinaryIO, form: IcForm, limits: archive.Limits, history: History = no_history,
             cap: int = 10_000) -> Outcome:
    """Check one IC-card upload (XML, or a ZIP holding one XML file)."""
    outcome = Outcome(profile="ic", cap=cap)
    codes = catalogue("ic_error_codes")
    stream = upload
    try:
        head = upload.read(4)
        upload.seek(0)
        if archive.is_zip(head):
            try:
                outcome.entry_name, stream = archive.open_single_entry(upload, limits, suffix="", strict_stem=False)
            except archive.ArchiveProblem as problem:
                raise Rejected(codes.finding(ARCHIVE_CODES[problem.kind])) from None
        checker = IcChecker(form, outcome, history)
        try:
            checker.feed(stream)
        except archive.ArchiveProblem as problem:
            raise Rejected(codes.finding(ARCHIVE_CODES[problem.kind])) from None
        checker.compare_history()
    except Rejected as rejected:
        outcome.reject(rejected.finding)
    finally:
        if stream is not upload:
            stream.close()
    return outcome


class IcChecker(XmlStream):
    """One pass over RECS/REC/MSH/MB/MB1/MB2; REC-level findings, whole-file refusals where NHIA has them."""

    def __init__(self, form: IcForm, outcome: Outcome, history: History):
        super().__init__()
        self.form = form
        self.out = outcome
        self.history = history
        self.codes = catalogue("ic_error_codes")
        self.specs = {"1.0": load("ic10_fields"), "2.0": load("ic20_fields")}
        self.version = ""
        self.fields: dict[str, FieldSpec] = {}
        self.tag = {}
        self.stack: list[str] = []
        self.leaf: FieldSpec | None = None
        self.rec: _Rec | None = None
        self.target: dict | None = None
        self.seen: dict[RecKey, int] = {}
        self.pending: list[tuple[RecKey, str, int, int]] = []  # key, format, REC index, its MB2 count
        self.categories = tables.by_code("visit_categories")
        self.anomalies = tables.by_code("anomaly_codes")
        self.order_types = tables.by_code("order_types_ic")
        self.marks = tables.by_code("dispense_marks")
        self.preventive = {row["service"]: set(row.get("items", "").split()) for row in tables.rows("preventive_items")}
        self.body_sites = tables.by_code("body_sites")
        self.icd_cm = tables.icd_codes("cm")

    # -- whole-file problems -----------------------------------------------------------------------

    def refuse(self, code: str, detail: str = "") -> None:
        """Stop: the whole file is refused."""
        finding = self.codes.finding(code)
        if detail:
            finding.message = f"{finding.message}（{detail}）"
        finding.severity = "reject_file"
        raise Rejected(finding)

    def problem(self, kind: str, line: int, col: int, detail: str) -> None:
        """Broken XML and friends: Y003/Y014/…; an unclosed REC or RECS at the end is Y006/Y007."""
        if kind == "malformed" and ("no element found" in detail or "unclosed" in detail):
            if "REC" in self.stack[1:]:
                self.refuse("Y006")
            if self.stack:
                self.refuse("Y007")
        self.refuse(_PROBLEM_CODES[kind], f"第[{line}]列；第[{col}]字元")

    # -- structure -----------------------------------------------------------------------------------

    # The expat handlers themselves, with a short path for the common element: a known field in
    # its section with a plain ASCII value (one Python call per element instead of two). Only
    # containers count towards XmlStream's depth; fields cannot nest (Y005).
    def _start(self, tag: str, attrs) -> None:
        if self.leaf is None and self.target is not None:
            spec = self.fields.get(tag)
            if spec is not None and spec.section == self.stack[-1]:
                self._text = ""
                self.leaf = spec
                return
        super()._start(tag, attrs)
        if self.leaf is not None:
            self.depth -= 1

    def _end(self, tag: str) -> None:
        spec = self.leaf
        if spec is None:
            super()._end(tag)
            return
        self.leaf = None
        text = self._text
        passed = spec.passed
        if text in passed:  # only values that passed below are in it
            self.target[spec.tag] = text
        elif spec.section and text.isascii() and spec.fast.match(text):
            if len(passed) < PASSED_MAX:
                passed.add(text)
            self.target[spec.tag] = text
        else:
            self._value(spec, text.strip())

    def start(self, tag: str) -> None:
        """Track RECS/REC/MSH/MB/MB1/MB2 and open fields."""
        stack = self.stack
        if not stack:
            if tag != "RECS":
                self.refuse("Y002")
            stack.append(tag)
            return
        parent = stack[-1]
        if self.leaf is not None:
            self.refuse("Y005", f"{self.leaf.tag} 內不可有 {tag}")
        if tag == "REC" and parent == "RECS":
            self.out.records += 1
            self.rec = _Rec(self.out.records, self.parser.CurrentLineNumber)
        elif tag == "RECS":
            self.refuse("Y015")
        elif tag == "MSH" and parent == "REC":
            self.target = self.rec.header
        elif tag == "MB" and parent == "REC":
            if "MSH" not in self.rec.sections:
                self.refuse("Y005", f"第{self.rec.index}筆無MSH")
        elif parent == "MB" and tag.startswith("MB"):
            if tag != "MB1" and "MB1" not in self.rec.sections:
                self.refuse("Y005", f"第{self.rec.index}筆{tag}前無MB1")
            if tag == "MB1":
                if "MB1" in self.rec.sections:
                    self.refuse("Y005", f"第{self.rec.index}筆有多個MB1")
                self.target = self.rec.values
            else:
                self.target = {"_section": tag}
                if tag == "MB2":
                    self.rec.orders.append(self.target)
                    self.out.orders += 1
        else:
            spec = self._spec(tag, parent)
            if spec is None:
                self.refuse("Y005", f"{parent} 內不可有 {tag}")
            self.leaf = spec
            return
        stack.append(tag)
        if self.rec is not None and tag != "REC":
            self.rec.sections.append(tag)

    def _spec(self, tag: str, parent: str) -> FieldSpec | None:
        """The field spec for a tag inside parent; the version is settled by the first MSH field."""
        if not self.version and parent == "MSH":
            self.version = "1.0" if tag.startswith("A") else "2.0" if tag.startswith("H") else ""
            if not self.version:
                self.refuse("Y002")
            self.out.version = self.version
            self.fields = self.specs[self.version]
            self.tag = {role: pair[0 if self.version == "1.0" else 1] for role, pair in ROLES.items()}
        spec = self.fields.get(tag)
        if spec is None:
            other = self.specs["2.0" if self.version == "1.0" else "1.0"].get(tag)
            if other is not None:
                self.refuse("Y001")
            if self.rec is not None and parent in ("MSH", "MB1", "MB2", "MB3"):
                self.flag("Y004", tag)  # an unknown field: the REC is wrong, the file is readable
                return FieldSpec(tag, "", "", False, None, False, None, False, False, 0)
            return None
        if spec.section != parent:
            return None
        return spec

    def end(self, tag: str, text: str) -> None:
        """Check a finished REC (fields end in _end)."""
        self.stack.pop()
        if tag == "REC":
            if "MSH" not in self.rec.sections:
                self.refuse("Y005", f"第{self.rec.index}筆無MSH")
            self.check_rec(self.rec)
            self.rec = None
        elif tag in ("MSH", "MB1", "MB2", "MB3"):
            self.target = None

    def _value(self, spec: FieldSpec, value: str) -> None:
        """AC (length) and AB (type) per field; 造字 outside names is Y014."""
        if not value or not spec.section:
            return
        if not value.isascii() and has_uda(value):
            self.refuse("Y014", f"第[{self.parser.CurrentLineNumber}]列")
        wrong = value_problem(spec, value)
        if wrong == "type":
            self.flag("AB", spec.tag, detail="只接受數字" if spec.numeric else "")
        elif wrong:
            self.flag("AC", spec.tag)
        if self.target is not None:
            self.target[spec.tag] = value

    # -- findings ----------------------------------------------------------------------------------

    def flag(self, code: str, tag: str, order: int = 0, detail: str = "") -> None:
        """A finding for the current REC; MB2 fields carry their 1-based MB2 index, e.g. A78[1]."""
        rec = self.rec
        name = f"{tag}[{order}]" if order else tag
        finding = self.codes.finding(code, field=name, record=rec.index if rec else 0, line=rec.line if rec else 0)
        if detail:
            finding.message = f"{finding.message}（{detail}）"
        if rec is not None:
            finding.key = self._key_fields(rec)
            if finding.blocking:
                rec.blocking = True
        self.out.add(finding)

    def _key_fields(self, rec: _Rec) -> tuple:
        """What the report shows for a REC: ID, 就醫類別, 就診日期時間 (and 就醫識別碼 in 2.0)."""
        t, v = self.tag, rec.values
        key = (v.get(t.get("pid") or "", ""), v.get(t.get("category") or "", ""), v.get(t.get("visit") or "", ""))
        return key + ((v.get("M15", ""),) if self.version == "2.0" else ())

    # -- the REC rules -----------------------------------------------------------------------------

    def check_rec(self, rec: _Rec) -> None:
        """Every offline rule of FORMATS §3.7 for one REC, then queue its key for the history checks."""
        t, v, h = self.tag, rec.values, rec.header
        version = self.version
        kind = h.get(t["type"], "")
        fmt = h.get(t["format"], "")
        category = v.get(t["category"], "")
        if kind not in (("1", "2") if version == "1.0" else ("1", "2", "5")):
            self.flag("01", t["type"])
        if version == "1.0" and h.get("A02") != "1.0":
            self.flag("03", "A02")
        if fmt not in NORMAL[version] | ANOMALY[version] or (kind == "1" and not category):
            self.flag("Y008", t["format"] if fmt not in NORMAL[version] | ANOMALY[version] else t["category"])
            self._finish(rec, fmt)
            return
        org = v.get(t["org"])
        if org and org != self.form.institution:
            self.refuse("07", org)
        for role in ("service_org", "prenatal_org"):
            other = v.get(t[role] or "")
            if other and other != self.form.institution:
                self.refuse("07", other)
        normal = fmt in NORMAL[version]
        self._presence(rec, normal, kind, category)
        if kind == "1":
            self._category_rules(rec, normal, category)
        self._people_and_dates(rec)
        self._orders(rec, normal, category)
        self._finish(rec, fmt)

    def _presence(self, rec: _Rec, normal: bool, kind: str, category: str) -> None:
        """AA (must be filled) and AF (must not be sent) by 資料格式 and 就醫類別 (FORMATS §3.6)."""
        t, v = self.tag, rec.values
        always = ["pid", "birth", "org", "visit", "reissue"]
        if kind == "1" and category not in ("ZA", "ZB"):
            always.append("doctor")
        for role in always:
            if not v.get(t[role]):
                self.flag("AA", t[role])
        signed = [r for r in ("card", "sam", "signature", "visit_id") if t[r]]
        if normal:
            for role in signed:
                if not v.get(t[role]) and not (role == "visit_id" and category in ("ZA", "ZB")):
                    self.flag("AA", t[role])
        else:
            for role in signed:
                if v.get(t[role]):
                    self.flag("AF", t[role])
            for index, order in enumerate(rec.orders, 1):
                if order.get(t["order_signature"]):
                    self.flag("AF", t["order_signature"], index)
        if v.get(t["reissue"]) == "2" and not v.get(t["actual"]):
            self.flag("AA", t["actual"])

    def _category_rules(self, rec: _Rec, normal: bool, category: str) -> None:
        """就醫類別, 就醫序號 (AD01/AD02/AD13/AD14/AE01), fees (AH01–AH05), ZB (AD03), 保健 (AD04)."""
        t, v, version = self.tag, rec.values, self.version
        row = self.categories.get(category)
        if row is None or version not in row.get("versions", "1.0 2.0").split():
            self.flag("AE", t["category"])
            return
        serial = v.get(t["serial"], "")
        cumulative = category in CUMULATIVE[version]
        anomaly_row = self.anomalies.get(serial)
        if normal:
            if cumulative and not (serial.isdigit() and len(serial) == 4 and 1 <= int(serial) <= 1500):
                self.flag("AE01" if anomaly_row else "AD01", t["serial"])
            elif category == "AC" and not (serial.startswith("IC") and len(serial) == 4):
                self.flag("AD13", t["serial"])
            elif not cumulative and category != "AC" and serial not in ("", "IC08"):
                self.flag("AE01" if anomaly_row else "AD14", t["serial"])
        elif anomaly_row is None or not self._anomaly_valid(anomaly_row, v.get(t["visit"], "")):
            self.flag("AD02", t["serial"])
        fee, copay = v.get(t["op_fee"]), v.get(t["op_copay"])
        if category in _FEES_REQUIRED:
            if (category != "04" or fee) and (not fee or _zero(fee)) or copay is None:
                self.flag("AH01", t["op_fee"])
            if not _zero(v.get(t["ip_fee"])) or not _zero(v.get(t["ip_copay"])):
                self.flag("AH03", t["ip_fee"])
            if not v.get(DIAGNOSES[version == "2.0"][0]):
                self.flag("AH05" if rec.orders else "AA", DIAGNOSES[version == "2.0"][0])
        if category in _DISCHARGE:
            if _zero(v.get(t["ip_fee"])):
                self.flag("AH02", t["ip_fee"])
            if not _zero(fee) or not _zero(copay):
                self.flag("AH04", t["op_fee"])
        diagnoses = DIAGNOSES[version == "2.0"]
        if category == "ZB":
            if not any(_TIME.match(v.get(tag, "")) for tag in diagnoses):
                self.flag("AD03", diagnoses[0])
        else:
            for tag in diagnoses:
                code = v.get(tag)
                if code and (not _ICD_CM.match(code) or code not in self.icd_cm):
                    self.flag("15", tag)
        service = v.get(t["service"] or "")
        if service and t["service_item"]:
            allowed = self.preventive.get(service)
            item = v.get(t["service_item"], "")
            if allowed is not None and (item not in allowed if item else bool(allowed)):
                self.flag("AD04", t["service_item"])
        if version == "2.0":
            if category in _NEEDS_ORDERS and not rec.orders:
                self.flag("Y012", "MB2")
            if category == "AI" and rec.orders:
                self.flag("Y013", "MB2")
            if len(rec.orders) > MAX_ORDERS_2_0:
                self.flag("AG", "MB2")

    def _anomaly_valid(self, row: dict, visit: str) -> bool:
        """Whether an anomaly code was in force on the visit date and exists in this version."""
        if self.version not in row.get("versions", "1.0 2.0").split():
            return False
        day = roc_date(visit[:7]) if visit else None
        if day is None:
            return True
        start, stop = row.get("valid_from") or "", row.get("valid_to") or ""
        return (not start or day.isoformat() >= start) and (not stop or day.isoformat() <= stop)

    def _people_and_dates(self, rec: _Rec) -> None:
        """IDs (checksum → AB), dates that exist (AB), visit vs upload (BD, BH), birth (BG), newborn (BA–BI)."""
        t, v = self.tag, rec.values
        for role in ("pid", "doctor"):
            value = v.get(t[role])
            if value and national_id.has_id_shape(value) and not national_id.is_valid(value):
                self.flag("AB", t[role], detail="身分證號檢查碼錯誤")
        card = v.get(t["card"])
        if card and not _ALNUM.match(card):
            self.flag("AB", t["card"], detail="只接受英數字")
        org = v.get(t["org"])
        if org and not org.isdigit():
            self.flag("AB", t["org"], detail="只接受0~9")
        visit_text = v.get(t["visit"], "")
        visit = roc_datetime(visit_text)
        if visit_text and visit is None:
            self.flag("AB", t["visit"], detail="日期不存在")
        birth_text = v.get(t["birth"], "")
        birth = roc_date(birth_text)
        if birth_text and birth is None:
            self.flag("AB", t["birth"], detail="日期不存在")
        if visit:
            if visit > self.form.received_at:
                self.flag("BD", t["visit"])
            elif visit < _months_before(self.form.received_at, 3):
                self.flag("BH", t["visit"])
            if birth and birth > visit.date():
                self.flag("BG", t["birth"])
        mark, twins, nb_birth = v.get(t["nb_mark"]), v.get(t["nb_twins"]), v.get(t["nb_birth"])
        if mark:
            if not twins or not nb_birth:
                self.flag("BB", t["nb_mark"])
            elif twins.isdigit() and mark.isalpha() and ord(mark.lower()) - ord("a") + 1 > int(twins):
                self.flag("BA", t["nb_mark"])
            born = roc_date(nb_birth) if nb_birth else None
            if born and visit and born + timedelta(days=60) < visit.date():
                self.flag("BI", t["nb_birth"])

    def _orders(self, rec: _Rec, normal: bool, category: str) -> None:
        """MB2 lines: time = visit (BE), type (AE), 交付處方註記 pairing (AD10–AD12), days (AH/AG), teeth, R00x (19)."""
        t, v, version = self.tag, rec.values, self.version
        visit = v.get(t["visit"])
        sequences = set()
        for index, order in enumerate(rec.orders, 1):
            if order.get("_section") != "MB2" or any(order.get(tag) for tag in _NOT_ORDER_LINES):
                continue  # an allergy (1.0 A80/A81, 2.0 E01…) or vaccine (2.0 V01/V02) line has no order fields
            when = order.get(t["order_time"])
            if not when:
                self.flag("AA", t["order_time"], index)
            elif visit and when != visit:
                self.flag("BE", t["order_time"], index)
            kind = order.get(t["order_type"], "")
            if kind not in self.order_types or version not in self.order_types[kind].get("versions", "1.0 2.0"):
                self.flag("AE", t["order_type"], index)
            code = order.get(t["order_code"], "")
            if not code:
                self.flag("AA", t["order_code"], index)
            if _VIRTUAL.match(code) and kind not in ("G", "H"):
                self.flag("19", t["order_code"], index)
            if t["dispense"]:
                mark = order.get(t["dispense"], "")
                row = self.marks.get(mark)
                if mark and (row is None or kind not in row.get("order_types", "").split()):
                    self.flag(_pairing_code(kind), t["dispense"], index)
            if kind in DRUG_TYPES[version]:
                days = order.get(t["days"], "")
                if not days or not days.isdigit() or int(days) == 0:
                    self.flag("AH", t["days"], index)
                elif int(days) > 92:
                    self.flag("AG", t["days"], index)
                if not order.get(t["usage"]):
                    self.flag("AA", t["usage"], index)
            site = order.get(t["site"] or "")
            if site and self.body_sites.get(site, {}).get("kind") == "tooth" and not code.startswith(_TEETH_CODES):
                self.flag("AD09", t["site"], index)
            if normal and t["order_signature"] and not order.get(t["order_signature"]):
                self.flag("AA", t["order_signature"], index)
            if t["order_seq"]:
                seq = order.get(t["order_seq"], "")
                if seq in sequences:
                    self.flag("D028", t["order_seq"], index)
                sequences.add(seq)

    def _finish(self, rec: _Rec, fmt: str) -> None:
        """Count the REC and queue its key; a key twice in one file is C001 at once."""
        t, v = self.tag, rec.values
        key = RecKey(v.get(t.get("pid") or "", ""), v.get(t.get("visit") or "", ""), v.get(t.get("category") or "", ""))
        if key.pid and key.visit:
            if key in self.seen:
                self.flag("C001", t["pid"])
            else:
                self.seen[key] = rec.index
        if rec.blocking:
            self.out.invalid_records += 1
            self.out.invalid_orders += len(rec.orders)
        code_tag = t.get("order_code") or ""
        facts = (v.get(t.get("doctor") or "", ""), v.get(DIAGNOSES[self.version == "2.0"][0], ""),
                 v.get(t.get("op_fee") or "", ""), v.get(t.get("op_copay") or "", ""),
                 " ".join(o[code_tag] for o in rec.orders if o.get(code_tag)))
        self.pending.append((key, fmt, rec.index, len(rec.orders), rec.blocking, facts))

    # -- history -------------------------------------------------------------------------------------

    def compare_history(self) -> None:
        """C001/C002/Y009/Y010 against earlier uploads, in batches; then record every REC's key."""
        version = self.version
        formats = NORMAL.get(version, frozenset()) | ANOMALY.get(version, frozenset())
        for start in range(0, len(self.pending), HISTORY_BATCH):
            batch = self.pending[start:start + HISTORY_BATCH]
            known = self.history([item[0] for item in batch if item[0].pid])
            for key, fmt, index, orders, blocking, facts in batch:
                code = _history_code(version, fmt, known.get(key, [])) if fmt in formats else ""
                if code:
                    finding = self.codes.finding(code, field=self.tag.get("pid") or "", record=index,
                                                 key=(key.pid, key.category, key.visit))
                    self.out.add(finding)
                    if finding.blocking and not blocking:
                        self.out.invalid_records += 1
                        self.out.invalid_orders += orders
                        blocking = True
                self.out.keys.append((key.pid, key.visit, key.category, fmt, not blocking, *facts))


def _history_code(version: str, fmt: str, earlier: Iterable[tuple[str, bool]]) -> str:
    """The history rule a REC breaks, given the (format, valid) of earlier RECs with its key."""
    earlier = list(earlier)
    valid_before = any(valid for _, valid in earlier)
    if version == "2.0" or fmt in ("1", "2"):
        return "C001" if valid_before else ""
    original = "1" if fmt == "3" else "2"
    if not any(f == original for f, _ in earlier):
        return "Y009" if fmt == "3" else "Y010"
    return "C002" if valid_before else ""


def _pairing_code(kind: str) -> str:
    """AD10/AD11/AD12: which 交付處方註記 rule an order type falls under."""
    if kind in ("1", "A"):
        return "AD10"
    if kind in ("2", "B"):
        return "AD11"
    return "AD12"


def _zero(value: str | None) -> bool:
    """An amount that is absent or 0 (junk counts as non-zero: its AB is reported apart)."""
    return not value or decimal(value, "1") == 0


def _months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months earlier (clamped to the month's end)."""
    month = moment.month - months
    year = moment.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment

