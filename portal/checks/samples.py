"""範例上傳檔產生器 — sample upload files for the checkers (FORMATS §4).

For NHIA staff, HIS vendors and our own tests. Everything here is made up:
patients, doctors, card numbers and signatures are random (IDs pass the
§1.3 checksum, so they look real to a checker, but belong to nobody).

* ``visits()``        a deterministic stream of clinic visits (the §4.1 model:
                      20–150 a day, Saturday mornings, closed on Sunday, three sessions);
* ``write_claims()``  醫療費用點數申報 XML (門診 ``<outpatient>`` or 住院 ``<inpatient>``),
  ``claims_zip()``    and the ZIP that is uploaded (FORMATS §2);
* ``write_ic()``      健保卡就醫資料上傳 XML, version 1.0 or 2.0 (FORMATS §3);
* ``MUTATIONS``       the seeded-error catalogue (§4.3), applied to the §4.2 examples
                      (``valid_claims_example()``, ``valid_ic_example()``);
* ``python -m portal.checks.samples``  the same from the command line (``--help``).

Same arguments and seed ⇒ same bytes. Files of any size are written with flat
memory: claims cases are spooled to a temporary file (the 總表 <tdata> that opens
the file needs totals known only at the end) and then copied behind the 總表.

Code values (案件分類, 部分負擔代號, anomaly codes …) are the few this module needs,
hard-coded on purpose: the checker's tables must accept them, so a disagreement
shows up as a test failure rather than being hidden by sharing one table.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from portal.logic.national_id import LETTER_VALUES

TAIPEI = ZoneInfo("Asia/Taipei")
DECLARATION = '<?xml version="1.0" encoding="Big5"?>\n'
ENCODING = "cp950"  # Big5 as HIS software writes it (FORMATS §1.1 E2)
DEFAULT_INSTITUTION = "3501200000"  # 臺北虛擬診所 (the seeds' demo clinic)
DEFAULT_FEE_MONTH = "11307"

# The upload form of the §4.2 examples; a Mutation's `form` holds only what differs from this.
EXAMPLE_FORMS = {
    "claims": {"institution": DEFAULT_INSTITUTION, "fee_month": DEFAULT_FEE_MONTH, "kind": "op",
               "medical_category": "11"},
    "ic10": {"institution": DEFAULT_INSTITUTION},
    "ic20": {"institution": DEFAULT_INSTITUTION},
}

# --------------------------------------------------------------------------------------------
# Primitives: IDs (§1.3), ROC dates (§1.2), rounding (§2.5)
# --------------------------------------------------------------------------------------------

# Where patients of a Taipei clinic come from: mostly A (臺北市) and F (新北市).
_ID_LETTERS = "A" * 10 + "F" * 6 + "BCDEGHJKLMNPQRSTUVXYWZIO"


def id_with_checksum(letter: str, second: str, body7: str) -> str:
    """A national ID / ARC number: letter, 2nd character, 7 digits and the §1.3 check digit."""
    value = LETTER_VALUES[letter]
    second_value = int(second) if second.isdigit() else LETTER_VALUES[second] % 10
    total = value // 10 + (value % 10) * 9 + second_value * 8
    total += sum(map(int.__mul__, map(int, body7), (7, 6, 5, 4, 3, 2, 1)))
    return f"{letter}{second}{body7}{(-total) % 10}"


def random_id(rng: random.Random) -> str:
    """A checksum-valid ID in the §4.1 mix: 48 % men, 48 % women, 3 % new ARC, 1 % old ARC."""
    random_ = rng.random
    roll = random_()
    if roll < 0.48:
        second = "1"
    elif roll < 0.96:
        second = "2"
    elif roll < 0.99:
        second = "89"[int(random_() * 2)]
    else:
        second = "ABCD"[int(random_() * 4)]
    letter = _ID_LETTERS[int(random_() * len(_ID_LETTERS))]
    return id_with_checksum(letter, second, f"{int(random_() * 10**7):07d}")


def roc_date(day: date) -> str:
    """YYYMMDD (民國): 2024-07-02 → 1130702."""
    return f"{day.year - 1911:03d}{day.month:02d}{day.day:02d}"


def roc_minute(moment: datetime) -> str:
    """YYYMMDDHHMM, the claims p14/p15 form."""
    return f"{moment.year - 1911:03d}{moment.month:02d}{moment.day:02d}{moment.hour:02d}{moment.minute:02d}"


def roc_second(moment: datetime) -> str:
    """YYYMMDDHHMMSS, the IC A17/A71/M11/D01 form."""
    return (f"{moment.year - 1911:03d}{moment.month:02d}{moment.day:02d}"
            f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}")


def parse_fee_month(month: str) -> date:
    """The first day of a 費用年月 YYYMM (11307 → 2024-07-01)."""
    if not re.fullmatch(r"\d{5}", month) or not 1 <= int(month[3:]) <= 12:
        raise ValueError(f"費用年月須為民國年月 YYYMM（例如 11307），收到 {month!r}")
    return date(int(month[:3]) + 1911, int(month[3:]), 1)


def month_end(first: date) -> date:
    """The last day of first's month."""
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def points_of(qty_tenths: int, price_cents: int, rate_cents: int = 10000) -> int:
    """p12 = round_half_up(p10 × p11 × p8 / 100) on exact integers (p10 ×10, p11 ×100, p8 ×100)."""
    numerator = qty_tenths * price_cents * rate_cents
    return (2 * numerator + 10**7) // (2 * 10**7)


def taipei_now() -> datetime:
    """The wall-clock time in Taipei, naive, to the second (what upload times are compared with)."""
    return datetime.now(TAIPEI).replace(tzinfo=None, microsecond=0)


def taipei_today() -> date:
    """Today's date in Taipei."""
    return taipei_now().date()


def _tenths(value: int) -> str:
    """9 → '0.9', 90 → '9.0' (one decimal, as p10 / A77 are written)."""
    return f"{value // 10}.{value % 10}"


def _cents(value: int) -> str:
    """364 00 → '364.00' (two decimals, as p11 / p8 are written)."""
    return f"{value // 100}.{value % 100:02d}"


# --------------------------------------------------------------------------------------------
# Code values used by the generator (FORMATS §1.5, §1.6, §2.4, §3.5) — plausible, not a price list
# --------------------------------------------------------------------------------------------

# ICD-10-CM without dots, each billable in the US list (FY2014–FY2025) and in the TW 2014 edition.
# K21.0 and M54.5 were split after 2020 (K21.00/K21.01, M54.50/…), so K219 and M5416 stand in.
DIAGNOSES_CHILD = ("J069", "J00", "J029", "R509", "A09", "H6590", "J209")
DIAGNOSES_ADULT = ("J069", "J00", "J029", "J209", "J309", "K219", "K30", "K5900", "M5416", "M25561",
                   "N390", "L309", "H1013", "A09", "R509")
DIAGNOSES_CHRONIC = ("I10", "E119", "E785")
DIAGNOSES_TOPICAL = frozenset({"L309", "H1013"})

# (藥品代碼, 單價 ×100, 頻率, 途徑) — the first five codes are those of the §4.2 example.
DRUGS_ACUTE = (("AC37603100", 200, "TID", "PO"), ("A013382100", 150, "TID", "PO"),
               ("A037807100", 320, "HS", "PO"), ("AC44374100", 193, "TID", "PO"),
               ("A043925100", 60, "QID", "PO"), ("AC46150100", 250, "BID", "PO"),
               ("A022712100", 100, "TID", "PO"))
DRUGS_CHRONIC = (("AB57740100", 350, "QD", "PO"), ("AC25866100", 180, "BID", "PO"),
                 ("AC45888100", 850, "QD", "PO"), ("AB46393100", 410, "QD", "PO"),
                 ("BC23419100", 1220, "QD", "PO"))
DRUGS_TOPICAL = (("AC30262321", 2500, "BID", "EXT"), ("AB06811429", 2980, "QID", "EXT"))
FREQUENCY_PER_DAY = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "HS": 1}
# (支付標準代碼, 單價 ×100) — 診療 (p3 = 2): blood sugar, blood count, urine, dressing.
PROCEDURES = (("09005C", 4000), ("08011C", 20000), ("06013C", 7500), ("48010C", 8500))
MATERIAL = ("CDZ01SPLINT1", 45000)  # 特材 (p3 = 3), 12 characters
CONSULTATION = ("00109C", 36400)  # 診察費 (p3 = 0), the §4.2 example's code and points
CONSULTATION_LATE = ("00110C", 32000)  # after the 50th visit of a day (合理門診量 tier)
PHARMACY_FEE = ("05202B", 3300)  # 藥事服務費 (p3 = 9), only where a pharmacist dispenses

COPAY_LEVEL = "D12"  # 基層一般門診 (ELC's real file), basic copay 50
COPAY_EXEMPT_CHILD = "902"  # 三歲以下兒童醫療補助計畫
COPAY_EXEMPT = ("001", "003", "004", "009")  # 重大傷病, 低收入戶, 榮民, 其他免部分負擔
EXEMPT_COPAY_CODES = frozenset({f"{n:03d}" for n in range(1, 10)} | {"801", "802"}
                               | {f"9{n:02d}" for n in range(1, 18)})
# 異常就醫序號 with no end date and no scope limit (§3.5.3; Z000 ended 112.12.31, so it is not used).
ANOMALY_CODES = ("A000", "A000", "A010", "B000", "C001", "D000", "D000")
DEPARTMENTS = {"family": "01", "internal": "02", "paediatrics": "04"}

# 住院 (§2.3b): codes for the daily lines of a stay, with the d66…d82 column each is summed in.
IP_CONSULTATION = ("02011K", 31200, "d66")  # 住院診察費
IP_WARD = ("03001K", 72000, "d67")  # 急性一般病床病房費
IP_PHARMACY = ("05101K", 4200, "d79")  # 住院藥事服務費
IP_LAB_COLUMN = "d69"  # 檢查費
IP_DRUG_COLUMN = "d78"  # 藥費
IP_COLUMNS = tuple(f"d{n}" for n in range(66, 83))

# The §4.2 example's doctor; every generated clinic's first doctor.
EXAMPLE_DOCTOR = "E120000001"

_SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高"
_GIVEN = ("小明", "小寶", "大華", "志明", "春嬌", "美玲", "志強", "淑芬", "家豪", "怡君", "建宏", "雅婷", "俊傑",
          "佳穎", "冠宇", "詩涵", "宗翰", "欣怡", "承恩", "子晴", "明哲", "惠美", "文雄", "秀英", "國華", "玉蘭")
_GIVEN_RARE = ("碁", "恒")  # cp950-only (not in strict Big5): exercises FORMATS §1.1 E2


# --------------------------------------------------------------------------------------------
# The visit model
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Order:
    """One order line of a visit: a drug, a procedure, a material or a fee.

    Quantities are kept as exact integers: ``qty_tenths`` is 總量 ×10 (p10 / A77 have one
    decimal), ``price_cents`` 單價 ×100 and ``rate_cents`` 支付成數 ×100 (10000 = 100.00 %).
    """

    kind: str  # 醫令類別 (門診 p3): 0 診察費, 1 藥品, 2 診療, 3 特材, 9 藥事服務費
    code: str
    qty_tenths: int
    price_cents: int
    points: int
    days: int = 0  # 給藥日份 p1 / A76 (drugs)
    dose: str = ""  # 用量 p5, e.g. "1.00"
    frequency: str = ""  # p7 / A75 / D08
    route: str = ""  # p9 / A75 / D14
    dispensing: str = ""  # p2: 0 自行調劑, 1 交付調劑 (drugs)
    rate_cents: int = 10000
    performer: str = ""  # p16 執行醫事人員

    @property
    def qty(self) -> Decimal:
        """總量 as a Decimal (e.g. 9.0)."""
        return Decimal(self.qty_tenths) / 10

    @property
    def unit_price(self) -> Decimal:
        """單價 as a Decimal (e.g. 2.00)."""
        return Decimal(self.price_cents) / 100


@dataclass(slots=True)
class Visit:
    """One clinic visit, with everything both uploads need (claims case and IC-card record)."""

    institution: str
    patient_id: str  # 身分證號 (checksum-valid, §1.3)
    birth: date
    name: str  # Big5-safe; a few carry a cp950-only character (碁, 恒)
    at: datetime  # 就診日期時間
    category: str  # 就醫類別 A23 / M07 ("01" 西醫門診)
    seq: str  # 就醫序號: "0001"…"1500", or an anomaly code when `anomaly`
    anomaly: bool  # the card could not be read: 異常上傳 (A01 = 2 / H01 = B)
    card: str  # 卡片號碼, 12 digits
    sam: str  # 安全模組代碼, 12 digits
    doctor: str  # 診治醫事人員 (身分證號)
    pharmacist: str  # 藥師 (d31, p16 of the 藥事服務費 line), "" when the doctor dispenses
    department: str  # 就醫科別 d8
    case_type: str  # 案件分類 d1: "01" 一般, "04" 慢性病
    payment: str  # 給付類別 d14 / M51
    copay_code: str  # 部分負擔代號 d15
    dispensing: str  # 處方調劑方式 d28 / M23: 0 自行, 1 交付, 2 未開處方
    diagnoses: tuple[str, ...]  # ICD-10-CM without dots, main first
    orders: list[Order]
    total: int  # 合計點數 d39 (= A31)
    copay: int  # 部分負擔點數 d40 (= A32)
    copay_basic: int  # d57 / M53
    copay_drug: int  # d58 / M54

    @property
    def day(self) -> date:
        """The visit date."""
        return self.at.date()

    @property
    def claimed(self) -> int:
        """申請點數 d41 = d39 − d40."""
        return self.total - self.copay


# Sessions (看診時段, SPEC C1) as seconds after midnight: 08:00–12:00, 14:30–17:30, 18:00–21:30.
_SESSIONS = ((8 * 3600, 12 * 3600), (14 * 3600 + 1800, 17 * 3600 + 1800), (18 * 3600, 21 * 3600 + 1800))
_SATURDAY = _SESSIONS[:1]


class _Clinic:
    """An institution's staff, patient pool and daily rhythm; makes the visits of one day."""

    def __init__(self, institution: str, rng: random.Random, first_day: date, expected_visits: int):
        self.institution = institution
        self.rng = rng
        self.expected_visits = expected_visits
        staff = random.Random(f"staff:{institution}")  # the same staff whatever the seed
        marker = zlib.crc32(institution.encode("ascii"))
        self.sam = f"1{marker % 10**11:011d}"
        self.hands_out = marker % 10 == 7  # ~10 % of clinics 交付調劑 (FORMATS §4.1)
        self.pharmacist = "" if marker % 4 == 3 else random_id(staff)
        self.doctors = [EXAMPLE_DOCTOR] + [random_id(staff) for _ in range(2)]
        pool = min(20_000, max(300, expected_visits // 3))
        self.pool = pool
        self.ids = [random_id(rng) for _ in range(pool)]
        r = rng.random
        self.cards = [f"{int(r() * 10**10):012d}" for _ in range(pool)]
        self.seqs = [int(r() * 60) for _ in range(pool)]
        self.ages: list[int] = []
        self.births: list[date] = []
        self.names: list[str] = []
        self.chronic: list[bool] = []
        for _ in range(pool):
            roll = r()
            age = int(r() * 13) if roll < 0.15 else 13 + int(r() * 52) if roll < 0.65 else 65 + int(r() * 31)
            self.ages.append(age)
            self.births.append(first_day - timedelta(days=age * 365 + int(r() * 365)))
            given = _GIVEN[int(r() * len(_GIVEN))]
            if r() < 0.01:
                given = given[0] + _GIVEN_RARE[int(r() * len(_GIVEN_RARE))]
            self.names.append(_SURNAMES[int(r() * len(_SURNAMES))] + given)
            self.chronic.append(age >= 45 and r() < 0.45)
        self.strides = [s for s in (7919, 104729, 1299709, 15485863) if pool % s]
        self._staff_lines()

    def day(self, day: date, count: int) -> Iterator[Visit]:
        """The `count` visits of one day, in time order; no patient twice a day (while count ≤ pool)."""
        if count <= 0:
            return
        rng = self.rng
        sessions = _SATURDAY if day.weekday() == 5 and count <= 60 else _SESSIONS
        lengths = [stop - start for start, stop in sessions]
        open_seconds = sum(lengths)
        offsets = sorted(rng.randrange(open_seconds) for _ in range(count))
        midnight = datetime(day.year, day.month, day.day)
        start = rng.randrange(self.pool)
        stride = rng.choice(self.strides)
        for k, offset in enumerate(offsets):
            session = 0
            while offset >= lengths[session]:
                offset -= lengths[session]
                session += 1
            at = midnight + timedelta(seconds=sessions[session][0] + offset)
            doctor = self.doctors[session % len(self.doctors)]
            yield self.visit(at, (start + k * stride) % self.pool, doctor, late=k >= 50)

    def _bundles(self, doctor: str, group: str, n: int = 256) -> list[tuple[tuple[Order, ...], int, int]]:
        """Pre-made order sets of one doctor for one kind of visit: (drug/test lines, their points, drug points).

        Visits draw from these instead of building every line afresh; this keeps the
        generator fast (tens of thousands of visits a second) while the mix stays varied.
        """
        rng = self.rng
        r = rng.random
        hands_out = self.hands_out
        mark = "1" if hands_out else "0"
        made = []
        for _ in range(n):
            if group == "chronic":
                picks = rng.sample(DRUGS_CHRONIC, 1 + int(r() * 3.2))
                days = 28
            elif group == "topical":
                picks = [rng.choice(DRUGS_TOPICAL)]
                days = rng.choice((3, 7))
            else:
                count = rng.choices((0, 1, 2, 3, 4, 5, 6), (8, 10, 20, 27, 20, 10, 5))[0]
                picks = rng.sample(DRUGS_ACUTE, count)
                days = 3 if r() < 0.75 else 7
            child = group in ("young", "child")
            orders = []
            for code, price, frequency, route in picks:
                if route == "EXT":
                    qty, dose = 10, "1.00"
                else:
                    qty = (5 if child else 10) * FREQUENCY_PER_DAY[frequency] * days
                    dose = "0.50" if child else "1.00"
                unit = 0 if hands_out else price  # 交付調劑: the pharmacy claims the drug, not the clinic
                orders.append(Order("1", code, qty, unit, points_of(qty, unit), days, dose, frequency, route, mark))
            if r() < 0.10:
                rate = 12000 if group == "young" else 10000  # 兒童加成 20 % under 6
                for code, price in rng.sample(PROCEDURES, 1 + (r() < 0.3)):
                    orders.append(Order("2", code, 10, price, points_of(10, price, rate), rate_cents=rate,
                                        performer=doctor))
            if r() < 0.005:
                orders.append(Order("3", MATERIAL[0], 10, MATERIAL[1], points_of(10, MATERIAL[1]),
                                    performer=doctor))
            drug_points = sum(o.points for o in orders if o.kind == "1")
            made.append((tuple(orders), sum(o.points for o in orders), drug_points))
        return made

    def _staff_lines(self) -> None:
        """Per doctor: the order-set pools and the 診察費 lines; the 藥事服務費 line of the pharmacist."""
        self.pools = {}
        self.consults = {}
        size = 64 if self.expected_visits <= 5000 else 256
        for doctor in self.doctors:
            for group in ("young", "child", "adult", "topical", "chronic"):
                self.pools[doctor, group] = self._bundles(doctor, group, size)
            self.consults[doctor, False] = Order("0", CONSULTATION[0], 10, CONSULTATION[1],
                                                 points_of(10, CONSULTATION[1]), performer=doctor)
            self.consults[doctor, True] = Order("0", CONSULTATION_LATE[0], 10, CONSULTATION_LATE[1],
                                                points_of(10, CONSULTATION_LATE[1]), performer=doctor)
        self.pharmacy_line = Order("9", PHARMACY_FEE[0], 10, PHARMACY_FEE[1], points_of(10, PHARMACY_FEE[1]),
                                   performer=self.pharmacist) if self.pharmacist else None

    def visit(self, at: datetime, p: int, doctor: str, late: bool) -> Visit:
        """One visit of patient p: diagnoses, orders, points and copay (FORMATS §4.1).

        Order lines are shared between visits (they are values, not to be changed in place).
        """
        r = self.rng.random
        age = self.ages[p]
        if self.chronic[p] and r() < 0.6:
            case_type, department, group = "04", DEPARTMENTS["internal"], "chronic"
            main = DIAGNOSES_CHRONIC[int(r() * 3)]
            diagnoses = (main, *[c for c in DIAGNOSES_CHRONIC if c != main and r() < 0.4])
        else:
            case_type = "01"
            choices = DIAGNOSES_CHILD if age < 12 else DIAGNOSES_ADULT
            department = DEPARTMENTS["paediatrics"] if age < 12 else DEPARTMENTS["family"]
            main = choices[int(r() * len(choices))]
            diagnoses = (main,)
            if r() < 0.3:
                other = choices[int(r() * len(choices))]
                if other != main:
                    diagnoses = (main, other)
            group = "topical" if main in DIAGNOSES_TOPICAL else "young" if age < 6 else "child" if age < 12 \
                else "adult"
        pool = self.pools[doctor, group]
        lines, total, drug_points = pool[int(r() * len(pool))]
        consult = self.consults[doctor, late]
        has_drugs = drug_points or (lines and lines[0].kind == "1")
        pharmacy = self.pharmacy_line if has_drugs and not self.hands_out else None
        if pharmacy is not None:
            orders = [*lines, consult, pharmacy]
            total += consult.points + pharmacy.points
        else:
            orders = [*lines, consult]
            total += consult.points
        if age < 3:
            copay_code = COPAY_EXEMPT_CHILD
        elif r() < 0.12:
            copay_code = COPAY_EXEMPT[int(r() * len(COPAY_EXEMPT))]
        else:
            copay_code = COPAY_LEVEL
        if copay_code == COPAY_LEVEL:
            basic = 50
            drug_copay = 0 if drug_points <= 100 else min(200, 20 * ((drug_points - 1) // 100))
        else:
            basic = drug_copay = 0
        if r() < 0.03:
            seq, anomaly = ANOMALY_CODES[int(r() * len(ANOMALY_CODES))], True
        else:
            number = self.seqs[p] % 1500 + 1
            self.seqs[p] = number
            seq, anomaly = f"{number:04d}", False
        return Visit(
            self.institution, self.ids[p], self.births[p], self.names[p], at, "01", seq, anomaly, self.cards[p],
            self.sam, doctor, pharmacy.performer if pharmacy is not None else "", department, case_type,
            "3" if main in ("M25561", "M5416") and r() < 0.3 else "4", copay_code,
            ("1" if self.hands_out else "0") if has_drugs else "2", diagnoses, orders, total, basic + drug_copay,
            basic, drug_copay)


def _day_weights(rng: random.Random, days: list[date]) -> list[float]:
    """Visits a clinic sees on each day: 20–150 (median ~60) on weekdays, fewer on Saturday, none on Sunday."""
    weights = []
    for day in days:
        if day.weekday() == 6:
            weights.append(0.0)
        elif day.weekday() == 5:
            weights.append(rng.triangular(10, 60, 30))
        else:
            weights.append(rng.triangular(20, 150, 50))
    if not any(weights):  # only Sundays asked for: the clinic opened anyway, Saturday-style
        weights = [rng.triangular(10, 60, 30) for _ in days]
    return weights


def _allocate(count: int, weights: list[float]) -> list[int]:
    """Split count over the days in proportion to weights (largest remainder, deterministic)."""
    total = sum(weights)
    shares = [count * w / total for w in weights]
    counts = [int(s) for s in shares]
    rest = count - sum(counts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in by_remainder[:rest]:
        counts[i] += 1
    return counts


def visits(institution: str = DEFAULT_INSTITUTION, month: str = DEFAULT_FEE_MONTH, *, count: int | None = None,
           seed: int = 1, start: date | None = None, days: int | None = None) -> Iterator[Visit]:
    """A deterministic stream of one institution's visits, in time order.

    By default the whole 費用年月 `month`; `start` / `days` pick a range of dates instead
    (they may leave the month). Without `count` each day gets the clinic-day model's
    volume; with `count` exactly that many visits are spread over the open days.
    """
    first = parse_fee_month(month)
    if start is None:
        start = first
    if days is None:
        days = max(1, (month_end(first) - start).days + 1) if start <= month_end(first) else 1
    rng = random.Random(f"visits:{institution}:{seed}")
    dates = [start + timedelta(days=i) for i in range(days)]
    weights = _day_weights(rng, dates)
    per_day = [int(w) for w in weights] if count is None else _allocate(count, weights)
    clinic = _Clinic(institution, rng, start, sum(per_day))
    for day, n in zip(dates, per_day, strict=True):
        yield from clinic.day(day, n)


# --------------------------------------------------------------------------------------------
# Claims (醫療費用點數申報, FORMATS §2)
# --------------------------------------------------------------------------------------------


@dataclass
class ClaimsTotals:
    """What a written claims file declares: 件數 (t37), 申請點數 (t38), 部分負擔 (t40), 醫令 lines."""

    cases: int = 0
    points: int = 0  # Σ d41 (門診) / Σ d85 (住院)
    copay: int = 0  # Σ d40 / Σ d84
    orders: int = 0
    copay_cases: int = 0  # t39: cases with d40 > 0
    bytes: int = 0  # size of the XML written


def _claims_pair(case_type: str) -> tuple[str, str]:
    """The 總表 件數/點數 pair of a 門診 案件分類 (FORMATS §2.4.2; only 01 and 04 are generated)."""
    return ("t7", "t8") if case_type == "01" else ("t9", "t10")


class _OutpatientCases:
    """Turns visits into <ddata> text, keeping the running sums the 總表 needs."""

    def __init__(self, fee_month: str):
        self.fee_month = fee_month
        self.first = parse_fee_month(fee_month)
        self.last = month_end(self.first)
        self.serials: dict[str, int] = {}
        self.pairs: dict[str, list[int]] = {}
        self.totals = ClaimsTotals()
        self.roc_days: dict[date, str] = {}

    def accepts(self, visit: Visit) -> bool:
        """Only visits inside the 費用年月 can be claimed in this file."""
        return self.first <= visit.at.date() <= self.last

    def case(self, v: Visit) -> str:
        """One <ddata>: dhead, dbody fields in ascending order, then the pdata lines."""
        d1 = v.case_type
        d2 = self.serials.get(d1, 0) + 1
        self.serials[d1] = d2
        day = v.at.date()
        visit_day = self.roc_days.get(day)
        if visit_day is None:
            visit_day = self.roc_days[day] = roc_date(day)
        when = f"{visit_day}{v.at.hour:02d}{v.at.minute:02d}"
        sums = {"0": 0, "1": 0, "2": 0, "3": 0, "9": 0}
        present = set()
        lines = []
        drug_days = 0
        consult_code = pharmacy_code = ""
        for n, o in enumerate(v.orders, 1):
            sums[o.kind] += o.points
            present.add(o.kind)
            if o.kind == "1":
                drug_days = max(drug_days, o.days)
                lines.append(
                    f"<pdata><p1>{o.days}</p1><p2>{o.dispensing}</p2><p3>1</p3><p4>{o.code}</p4><p5>{o.dose}</p5>"
                    f"<p7>{o.frequency}</p7><p8>100.00</p8><p9>{o.route}</p9><p10>{_tenths(o.qty_tenths)}</p10>"
                    f"<p11>{_cents(o.price_cents)}</p11><p12>{o.points}</p12><p13>{n}</p13><p14>{when}</p14>"
                    f"<p15>{when}</p15></pdata>\n")
            else:
                if o.kind == "0":
                    consult_code = o.code
                elif o.kind == "9":
                    pharmacy_code = o.code
                lines.append(
                    f"<pdata><p3>{o.kind}</p3><p4>{o.code}</p4><p8>{_cents(o.rate_cents)}</p8>"
                    f"<p10>{_tenths(o.qty_tenths)}</p10><p11>{_cents(o.price_cents)}</p11><p12>{o.points}</p12>"
                    f"<p13>{n}</p13><p14>{when}</p14><p15>{when}</p15><p16>{o.performer}</p16></pdata>\n")
        diagnoses = v.diagnoses
        fields = [f"<ddata>\n<dhead><d1>{d1}</d1><d2>{d2}</d2></dhead>\n<dbody><d3>{v.patient_id}</d3>"
                  f"<d8>{v.department}</d8><d9>{visit_day}</d9><d11>{roc_date(v.birth)}</d11><d14>{v.payment}</d14>"
                  f"<d15>{v.copay_code}</d15><d18>N</d18><d19>{diagnoses[0]}</d19>"]
        for number, code in enumerate(diagnoses[1:5], 20):
            fields.append(f"<d{number}>{code}</d{number}>")
        if drug_days:
            fields.append(f"<d27>{drug_days}</d27>")
        fields.append(f"<d28>{v.dispensing}</d28><d29>{v.seq}</d29><d30>{v.doctor}</d30>")
        if v.pharmacist:
            fields.append(f"<d31>{v.pharmacist}</d31>")
        if "1" in present:
            fields.append(f"<d32>{sums['1']}</d32>")
        if "2" in present:
            fields.append(f"<d33>{sums['2']}</d33>")
        if "3" in present:
            fields.append(f"<d34>{sums['3']}</d34>")
        if consult_code:
            fields.append(f"<d35>{consult_code}</d35><d36>{sums['0']}</d36>")
        if pharmacy_code:
            fields.append(f"<d37>{pharmacy_code}</d37><d38>{sums['9']}</d38>")
        total = sums["0"] + sums["1"] + sums["2"] + sums["3"] + sums["9"]
        if total != v.total:
            raise ValueError(f"visit of {v.patient_id} at {v.at}: points {v.total} ≠ Σ order points {total}")
        claimed = total - v.copay
        fields.append(f"<d39>{total}</d39><d40>{v.copay}</d40><d41>{claimed}</d41><d49>{v.name}</d49>")
        if v.copay_basic:
            fields.append(f"<d57>{v.copay_basic}</d57>")
        if v.copay_drug:
            fields.append(f"<d58>{v.copay_drug}</d58>")
        fields.append("\n")
        fields.extend(lines)
        fields.append("</dbody>\n</ddata>\n")
        t = self.totals
        t.cases += 1
        t.points += claimed
        t.copay += v.copay
        t.copay_cases += v.copay > 0
        t.orders += len(lines)
        pair = self.pairs.setdefault(_claims_pair(d1)[0], [0, 0])
        pair[0] += 1
        pair[1] += claimed
        return "".join(fields)

    def tdata(self, institution: str, filed: date) -> str:
        """The 總表: t1–t6, the category pairs with the 西醫 subtotal, t37–t40."""
        t = self.totals
        parts = [f"<tdata><t1>10</t1><t2>{institution}</t2><t3>{self.fee_month}</t3><t4>2</t4><t5>1</t5>"
                 f"<t6>{roc_date(filed)}</t6>"]
        count_sum = point_sum = 0
        for tag in ("t7", "t9"):
            if tag in self.pairs:
                count, claimed = self.pairs[tag]
                count_sum += count
                point_sum += claimed
                parts.append(f"<{tag}>{count}</{tag}><t{int(tag[1:]) + 1}>{claimed}</t{int(tag[1:]) + 1}>")
        if count_sum:
            parts.append(f"<t17>{count_sum}</t17><t18>{point_sum}</t18>")
        parts.append(f"<t37>{t.cases}</t37><t38>{t.points}</t38><t39>{t.copay_cases}</t39><t40>{t.copay}</t40>"
                     "</tdata>\n")
        return "".join(parts)


class _InpatientCases:
    """Turns visits into 住院 stays (admitted on the visit day, discharged within the month)."""

    def __init__(self, fee_month: str, seed: int):
        self.fee_month = fee_month
        self.first = parse_fee_month(fee_month)
        self.last = month_end(self.first)
        self.rng = random.Random(f"inpatient:{seed}")
        self.serial = 0
        self.days_total = 0
        self.copay_days = 0
        self.medical = 0
        self.totals = ClaimsTotals()

    def accepts(self, visit: Visit) -> bool:
        """Only admissions inside the 費用年月."""
        return self.first <= visit.at.date() <= self.last

    def case(self, v: Visit) -> str:
        """One <ddata> of 住院: d3…d112 as far as generated, pdata p1…p27 (§2.3b tag numbers)."""
        rng = self.rng
        admitted = v.at.date()
        stay = min(1 + int(rng.random() * 8), (self.last - admitted).days)
        discharged = admitted + timedelta(days=stay)
        bed_days = max(1, stay)
        columns = dict.fromkeys(IP_COLUMNS, 0)
        lines = []

        def line(kind: str, code: str, qty: int, price: int, when: datetime, column: str, drug: Order | None = None,
                 performer: str = "") -> None:
            """Append one pdata and add its points to its d66…d82 column."""
            pts = points_of(qty, price)
            columns[column] += pts
            stamp = roc_minute(when)
            usage = f"<p5>{drug.dose}</p5><p6>{drug.frequency}</p6><p7>{drug.route}</p7>" if drug else ""
            who = f"<p20>{performer}</p20>" if performer else ""
            lines.append(f"<pdata><p1>{len(lines) + 1}</p1><p2>{kind}</p2><p3>{code}</p3><p4>100.00</p4>{usage}"
                         f"<p14>{stamp}</p14><p15>{stamp}</p15><p16>{_tenths(qty)}</p16><p17>{_cents(price)}</p17>"
                         f"<p18>{pts}</p18>{who}</pdata>\n")

        drugs = [o for o in v.orders if o.kind == "1"]
        labs = [o for o in v.orders if o.kind == "2"]
        for day_number in range(bed_days):
            morning = datetime.combine(admitted + timedelta(days=day_number), datetime.min.time()) \
                + timedelta(hours=9)
            line("2", IP_CONSULTATION[0], 10, IP_CONSULTATION[1], morning, IP_CONSULTATION[2], performer=v.doctor)
            line("2", IP_WARD[0], 10, IP_WARD[1], morning, IP_WARD[2])
            for drug in drugs:
                per_day = FREQUENCY_PER_DAY.get(drug.frequency, 1) * (5 if drug.dose == "0.50" else 10)
                price = drug.price_cents or DRUGS_ACUTE[0][1]
                line("1", drug.code, per_day, price, morning, IP_DRUG_COLUMN, drug=drug)
            if drugs:
                line("9", IP_PHARMACY[0], 10, IP_PHARMACY[1], morning, IP_PHARMACY[2])
            if day_number == 0:
                for lab in labs or [Order("2", PROCEDURES[1][0], 10, PROCEDURES[1][1], 0)]:
                    line("2", lab.code, 10, lab.price_cents, morning, IP_LAB_COLUMN, performer=v.doctor)
        medical = sum(columns.values())
        copay = 0 if v.copay_code in EXEMPT_COPAY_CODES else (medical + 5) // 10  # 10 %, half up
        claimed = medical - copay
        self.serial += 1
        fields = [f"<ddata>\n<dhead><d1>1</d1><d2>{self.serial}</d2></dhead>\n<dbody><d3>{v.patient_id}</d3>"]
        if copay == 0:
            fields.append(f"<d4>{v.copay_code}</d4>")
        fields.append(f"<d6>{roc_date(v.birth)}</d6><d7>{v.payment}</d7><d9>{v.department}</d9>"
                      f"<d10>{roc_date(admitted)}</d10><d11>{roc_date(discharged)}</d11>"
                      f"<d12>{roc_date(admitted)}</d12><d13>{roc_date(discharged)}</d13><d14>{bed_days}</d14>"
                      f"<d17>{v.seq}</d17><d20>{v.doctor}</d20><d25>{v.diagnoses[0]}</d25>")
        for number, code in enumerate(v.diagnoses[1:], 26):
            fields.append(f"<d{number}>{code}</d{number}>")
        fields.append(f"<d65>{len(lines)}</d65>")
        for tag in IP_COLUMNS:
            if columns[tag]:
                fields.append(f"<{tag}>{columns[tag]}</{tag}>")
        fields.append(f"<d83>{medical}</d83><d84>{copay}</d84><d85>{claimed}</d85><d103>{v.name}</d103>\n")
        fields.extend(lines)
        fields.append("</dbody>\n</ddata>\n")
        t = self.totals
        t.cases += 1
        t.points += claimed
        t.copay += copay
        t.orders += len(lines)
        t.copay_cases += copay > 0
        self.days_total += bed_days
        self.copay_days += bed_days if copay else 0
        self.medical += medical
        return "".join(fields)

    def tdata(self, institution: str, filed: date) -> str:
        """住院總表: t1–t6, 一般案件 t7–t9, 醫療費用 t16–t18, 部分負擔 t19–t21, 申請 t28–t30."""
        t = self.totals
        copay = (f"<t19>{t.copay_cases}</t19><t20>{self.copay_days}</t20><t21>{t.copay}</t21>"
                 if t.copay_cases else "")
        return (f"<tdata><t1>20</t1><t2>{institution}</t2><t3>{self.fee_month}</t3><t4>2</t4><t5>1</t5>"
                f"<t6>{roc_date(filed)}</t6><t7>{t.cases}</t7><t8>{self.days_total}</t8><t9>{t.points}</t9>"
                f"<t16>{t.cases}</t16><t17>{self.days_total}</t17><t18>{self.medical}</t18>{copay}"
                f"<t28>{t.cases}</t28><t29>{self.days_total}</t29><t30>{t.points}</t30></tdata>\n")


_ROOTS = {"op": "outpatient", "ip": "inpatient"}


def _filing_date(fee_month: str) -> date:
    """申報日期 t6: the 5th of the month after the 費用年月, but never after today (R306)."""
    following = month_end(parse_fee_month(fee_month)) + timedelta(days=5)
    return min(following, max(taipei_today(), parse_fee_month(fee_month)))


def _spool_dir(out: BinaryIO) -> str | None:
    """Spool next to the output file when it is a real file (not in a tmpfs /tmp), else the default."""
    name = getattr(out, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        return os.path.dirname(os.path.abspath(name))
    return None


def _claims_cases_for(kind: str, fee_month: str, seed: int):
    """The case writer of a 門住診別."""
    if kind == "op":
        return _OutpatientCases(fee_month)
    if kind == "ip":
        return _InpatientCases(fee_month, seed)
    raise ValueError(f"kind 須為 op（門診）或 ip（住院），收到 {kind!r}")


def _estimate_cases(kind: str, institution: str, fee_month: str, seed: int, target_bytes: int) -> int:
    """How many cases make about target_bytes: the average size of a sample of cases, scaled."""
    sample = 400
    writer = _claims_cases_for(kind, fee_month, seed)
    size = sum(len(writer.case(v).encode(ENCODING)) for v in visits(institution, fee_month, count=sample, seed=seed)
               if writer.accepts(v))
    overhead = 400
    return max(1, round((target_bytes - overhead) * sample / max(size, 1)))


def write_claims(out: BinaryIO, *, kind: str = "op", institution: str = DEFAULT_INSTITUTION,
                 fee_month: str = DEFAULT_FEE_MONTH, cases: int | None = None, target_bytes: int | None = None,
                 seed: int = 1, visits_iter: Iterable[Visit] | None = None,
                 filed: date | None = None, spool_dir: str | None = None) -> ClaimsTotals:
    """Write a valid claims XML (cp950) for one 費用年月 and return its totals.

    `cases` fixes the number of <ddata>; `target_bytes` aims at a file size instead
    (±10 %); neither: one month of the clinic-day model. `visits_iter` replaces the
    generated visits (visits outside the 費用年月 are skipped). `filed` is t6.

    The 總表 comes first but holds totals of all cases, so the cases are written to a
    temporary file (spilled to disk past 16 MB, in `spool_dir` or next to `out` when it
    is a file) while the sums run, then copied behind the 總表. This beats generating
    the visit stream twice (once for the totals, once to write): generation runs at
    ~15–20 MB/s, the copy at disk speed, and a caller's `visits_iter` can be read only
    once. Memory stays flat whatever the size.
    """
    writer = _claims_cases_for(kind, fee_month, seed)
    if visits_iter is None:
        if cases is None and target_bytes:
            cases = _estimate_cases(kind, institution, fee_month, seed, target_bytes)
        visits_iter = visits(institution, fee_month, count=cases, seed=seed)
    with tempfile.SpooledTemporaryFile(max_size=16 * 2**20, dir=spool_dir or _spool_dir(out)) as spool:
        chunk: list[str] = []
        pending = 0
        for visit in visits_iter:
            if not writer.accepts(visit):
                continue
            text = writer.case(visit)
            chunk.append(text)
            pending += len(text)
            if pending > 1 << 20:
                spool.write("".join(chunk).encode(ENCODING))
                chunk.clear()
                pending = 0
        spool.write("".join(chunk).encode(ENCODING))
        body_size = spool.tell()
        head = (DECLARATION + f"<{_ROOTS[kind]}>\n"
                + writer.tdata(institution, filed or _filing_date(fee_month))).encode(ENCODING)
        tail = f"</{_ROOTS[kind]}>\n".encode(ENCODING)
        out.write(head)
        spool.seek(0)
        shutil.copyfileobj(spool, out, 1 << 20)
        out.write(tail)
    totals = writer.totals
    totals.bytes = len(head) + body_size + len(tail)
    return totals


def claims_zip(path_or_file, *, entry_name: str | None = None, **write_claims_kwargs) -> ClaimsTotals:
    """Write the upload ZIP: deflate, exactly one XML entry (TOTFA.xml 門診, TOTFB.xml 住院), streamed."""
    if entry_name is None:
        entry_name = "TOTFB.xml" if write_claims_kwargs.get("kind") == "ip" else "TOTFA.xml"
    if isinstance(path_or_file, str | os.PathLike) and "spool_dir" not in write_claims_kwargs:
        write_claims_kwargs["spool_dir"] = os.path.dirname(os.path.abspath(path_or_file))
    with zipfile.ZipFile(path_or_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(entry_name, date_time=(2024, 8, 5, 9, 0, 0))  # fixed: same seed ⇒ same bytes
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with archive.open(info, "w", force_zip64=True) as entry:
            return write_claims(entry, **write_claims_kwargs)


# --------------------------------------------------------------------------------------------
# IC-card upload (健保卡就醫資料上傳, FORMATS §3)
# --------------------------------------------------------------------------------------------


@dataclass
class IcTotals:
    """What a written IC file holds: <REC> records and <MB2> order lines."""

    records: int = 0
    orders: int = 0
    anomalies: int = 0  # records uploaded as 異常 (A01 = 2 / H01 = B)
    bytes: int = 0


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _IcRecords:
    """Turns visits into <REC> text of version 1.0 or 2.0 (FORMATS §3.3, §3.4, §4.2)."""

    def __init__(self, version: str, seed: int):
        if version not in ("1.0", "2.0"):
            raise ValueError(f"version 須為 1.0 或 2.0，收到 {version!r}")
        self.version = version
        self.rng = rng = random.Random(f"ic:{version}:{seed}")
        self.totals = IcTotals()
        # Signatures are random hex of the right length (nobody can verify them offline, §3.7 04/16);
        # drawn from pools so that writing stays fast.
        self.long_signatures = [f"{rng.getrandbits(512):0128X}" for _ in range(1024)]
        self.short_signatures = [f"{rng.getrandbits(160):040X}" for _ in range(4096)]
        self.tokens = ["".join(rng.choices(_ALNUM, k=20)) for _ in range(1024)]
        self.stamps: dict[date, str] = {}
        self.births: dict[date, str] = {}
        self.diagnosis_tags: dict[tuple, str] = {}

    def record(self, v: Visit) -> str:
        """One <REC>."""
        self.totals.records += 1
        self.totals.anomalies += v.anomaly
        return self._rec10(v) if self.version == "1.0" else self._rec20(v)

    def _long_signature(self) -> str:
        """安全簽章 A22 / M14: 128 hex digits."""
        return self.long_signatures[self.rng.getrandbits(10)]

    def _short_signature(self) -> str:
        """處方簽章 A79 / D11: 40 hex digits."""
        return self.short_signatures[self.rng.getrandbits(12)]

    def _stamp(self, moment: datetime) -> str:
        """YYYMMDDHHMMSS, the date part cached."""
        day = moment.date()
        prefix = self.stamps.get(day)
        if prefix is None:
            prefix = self.stamps[day] = roc_date(day)
        return f"{prefix}{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"

    def _diagnoses(self, first_tag: int, letter: str, codes: tuple[str, ...]) -> str:
        """<A25>…</A25><A26>… (or M35…), cached per combination of codes."""
        key = (letter, codes)
        text = self.diagnosis_tags.get(key)
        if text is None:
            text = self.diagnosis_tags[key] = "".join(
                f"<{letter}{n}>{code}</{letter}{n}>" for n, code in enumerate(codes[:6], first_tag))
        return text

    def _rec10(self, v: Visit) -> str:
        """<REC> of version 1.0: MSH A00–A02, MB1 A11…A32, one MB2 per drug or procedure (no A79 if 異常)."""
        stamp = self._stamp(v.at)
        birth = self.births.get(v.birth)
        if birth is None:
            birth = self.births[v.birth] = roc_date(v.birth)
        diagnoses = self._diagnoses(25, "A", v.diagnoses)
        if v.anomaly:
            parts = [f"<REC>\n<MSH><A00>1</A00><A01>2</A01><A02>1.0</A02></MSH>\n<MB>\n<MB1>"
                     f"<A12>{v.patient_id}</A12><A13>{birth}</A13><A14>{v.institution}</A14><A15>{v.doctor}</A15>"
                     f"<A17>{stamp}</A17><A18>{v.seq}</A18><A19>1</A19><A23>{v.category}</A23>{diagnoses}"
                     f"<A31>{v.total}</A31><A32>{v.copay}</A32></MB1>\n"]
        else:
            parts = [f"<REC>\n<MSH><A00>1</A00><A01>1</A01><A02>1.0</A02></MSH>\n<MB>\n<MB1><A11>{v.card}</A11>"
                     f"<A12>{v.patient_id}</A12><A13>{birth}</A13><A14>{v.institution}</A14><A15>{v.doctor}</A15>"
                     f"<A16>{v.sam}</A16><A17>{stamp}</A17><A18>{v.seq}</A18><A19>1</A19>"
                     f"<A22>{self._long_signature()}</A22><A23>{v.category}</A23>{diagnoses}"
                     f"<A31>{v.total}</A31><A32>{v.copay}</A32></MB1>\n"]
        handed = "02" if v.dispensing == "1" else "01"
        orders = 0
        for o in v.orders:
            kind = o.kind
            if kind == "1":
                line = (f"<MB2><A71>{stamp}</A71><A72>1</A72><A73>{o.code}</A73><A75>{o.frequency} {o.route}</A75>"
                        f"<A76>{o.days}</A76><A77>{_tenths(o.qty_tenths)}</A77><A78>{handed}</A78>")
            elif kind == "2":
                line = (f"<MB2><A71>{stamp}</A71><A72>3</A72><A73>{o.code}</A73>"
                        f"<A77>{_tenths(o.qty_tenths)}</A77><A78>03</A78>")
            else:
                continue
            orders += 1
            parts.append(f"{line}</MB2>\n" if v.anomaly else f"{line}<A79>{self._short_signature()}</A79></MB2>\n")
        self.totals.orders += orders
        parts.append("</MB>\n</REC>\n")
        return "".join(parts)

    def _rec20(self, v: Visit) -> str:
        """<REC> of version 2.0: MSH H00/H01, MB1 M01…M56, one MB2 (D01…D15) per drug or procedure."""
        stamp = self._stamp(v.at)
        birth = self.births.get(v.birth)
        if birth is None:
            birth = self.births[v.birth] = roc_date(v.birth)
        normal = not v.anomaly
        days = 0
        for o in v.orders:
            if o.kind == "1" and o.days > days:
                days = o.days
        parts = [f"<REC>\n<MSH><H00>1</H00><H01>{'A' if normal else 'B'}</H01></MSH>\n<MB>\n<MB1>"]
        if normal:
            parts.append(f"<M01>{v.sam}</M01><M02>{v.card}</M02>")
        parts.append(f"<M03>{v.patient_id}</M03><M04>{birth}</M04><M05>{v.institution}</M05>"
                     f"<M06>{v.doctor}</M06><M07>{v.category}</M07><M11>{stamp}</M11><M12>1</M12>"
                     f"<M13>{v.seq}</M13>")
        if normal:
            parts.append(f"<M14>{self._long_signature()}</M14><M15>{self.tokens[self.rng.getrandbits(10)]}</M15>")
        prescription = f"<M20>{days}</M20><M23>{v.dispensing}</M23><M24>1</M24>" if days \
            else f"<M23>{v.dispensing}</M23>"
        copay = (f"<M53>{v.copay_basic}</M53>" if v.copay_basic else "") + \
            (f"<M54>{v.copay_drug}</M54>" if v.copay_drug else "")
        parts.append(f"{prescription}{self._diagnoses(35, 'M', v.diagnoses)}<M44>{v.total}</M44>"
                     f"<M45>{v.copay}</M45><M51>{v.payment}</M51>{copay}"
                     f"<M56>{_medical_category(v.institution)}</M56></MB1>\n")
        handed = "1" if v.dispensing == "1" else "0"
        number = 0
        for o in v.orders:
            kind = o.kind
            if kind not in ("1", "2"):
                continue
            number += 1
            quantity = f"{o.qty_tenths // 10:05d}.{o.qty_tenths % 10}"
            signature = f"<D11>{self._short_signature()}</D11>" if normal else ""
            if kind == "1":
                parts.append(f"<MB2><D01>{stamp}</D01><D02>1</D02><D03>{number:03d}</D03><D04>A</D04>"
                             f"<D05>{handed}</D05><D06>{o.code}</D06><D08>{o.frequency}</D08><D09>{o.days:02d}</D09>"
                             f"<D10>{quantity}</D10>{signature}<D14>{o.route}</D14></MB2>\n")
            else:
                parts.append(f"<MB2><D01>{stamp}</D01><D02>2</D02><D03>{number:03d}</D03><D05>0</D05>"
                             f"<D06>{o.code}</D06><D10>{quantity}</D10>{signature}</MB2>\n")
        self.totals.orders += number
        parts.append("</MB>\n</REC>\n")
        return "".join(parts)


def _medical_category(institution: str) -> str:
    """醫事類別 M56: 11 西醫診所 for clinic codes (35…), 12 西醫醫院 otherwise (a guess from §1.4)."""
    return "11" if institution.startswith("35") else "12"


def _fit_before(visit: Visit, now: datetime) -> Visit:
    """A visit of now's day that would lie after now: its time squeezed into the part of the day before now."""
    if visit.at <= now or visit.at.date() != now.date():
        return visit
    midnight = datetime.combine(now.date(), datetime.min.time())
    low = midnight + timedelta(hours=8) if now >= midnight + timedelta(hours=8, minutes=1) else midnight
    high = midnight + timedelta(hours=21, minutes=30)
    span = (now - low).total_seconds()
    fraction = ((visit.at - low).total_seconds()) / max((high - low).total_seconds(), 1)
    return replace(visit, at=low + timedelta(seconds=int(max(0.0, min(1.0, fraction)) * span)))


def _estimate_records(version: str, institution: str, day: date, seed: int, target_bytes: int) -> int:
    """How many <REC> make about target_bytes: the average size of a sample, scaled."""
    sample = 300
    writer = _IcRecords(version, seed)
    month = roc_date(day)[:5]
    size = sum(len(writer.record(v).encode(ENCODING))
               for v in visits(institution, month, count=sample, seed=seed, start=day, days=1))
    return max(1, round((target_bytes - 60) * sample / max(size, 1)))


def write_ic(out: BinaryIO, *, version: str = "1.0", institution: str = DEFAULT_INSTITUTION, day: date | None = None,
             records: int | None = None, target_bytes: int | None = None, seed: int = 1,
             visits_iter: Iterable[Visit] | None = None, now: datetime | None = None) -> IcTotals:
    """Write a valid IC-card upload XML (cp950) of one day's visits and return its counts.

    `day` defaults to yesterday (Taipei), so a fresh file passes the 24-hour / 3-month
    checks; `now` (the upload time the file must not be later than) defaults to the end
    of `day`, or to the present when `day` is today. Visits later than `now` on now's
    day are moved before it. `records` fixes the number of <REC>, `target_bytes` aims at
    a size (±10 %), neither: one clinic day of the §4.1 model.
    """
    writer = _IcRecords(version, seed)
    present = taipei_now()
    if now is None and visits_iter is not None and day is None:
        now = present
    if day is None:
        day = present.date() - timedelta(days=1)
    if now is None:
        now = min(datetime.combine(day, datetime.max.time()).replace(microsecond=0), present)
    if visits_iter is None:
        if records is None and target_bytes:
            records = _estimate_records(version, institution, day, seed, target_bytes)
        visits_iter = visits(institution, roc_date(day)[:5], count=records, seed=seed, start=day, days=1)
    head = (DECLARATION + "<RECS>\n").encode(ENCODING)
    out.write(head)
    size = len(head)
    chunk: list[str] = []
    pending = 0
    for visit in visits_iter:
        text = writer.record(_fit_before(visit, now))
        chunk.append(text)
        pending += len(text)
        if pending > 1 << 20:
            data = "".join(chunk).encode(ENCODING)
            out.write(data)
            size += len(data)
            chunk.clear()
            pending = 0
    data = ("".join(chunk) + "</RECS>\n").encode(ENCODING)
    out.write(data)
    writer.totals.bytes = size + len(data)
    return writer.totals


# --------------------------------------------------------------------------------------------
# The §4.2 minimal examples
# --------------------------------------------------------------------------------------------

_CLAIMS_EXAMPLE = """<?xml version="1.0" encoding="Big5"?>
<outpatient>
  <tdata>
    <t1>10</t1><t2>3501200000</t2><t3>11307</t3><t4>2</t4><t5>1</t5><t6>1130805</t6>
    <t7>2</t7><t8>729</t8><t9>1</t9><t10>493</t10><t17>3</t17><t18>1222</t18>
    <t37>3</t37><t38>1222</t38><t39>2</t39><t40>120</t40>
  </tdata>
  <ddata>
    <dhead><d1>01</d1><d2>1</d2></dhead>
    <dbody>
      <d3>A123456789</d3><d8>01</d8><d9>1130702</d9><d11>0680315</d11><d14>4</d14><d15>D12</d15><d18>N</d18>
      <d19>J069</d19><d27>3</d27><d28>0</d28><d29>0012</d29><d30>E120000001</d30>
      <d32>42</d32><d35>00109C</d35><d36>364</d36><d39>406</d39><d40>50</d40><d41>356</d41><d49>王小明</d49><d57>50</d57>
      <pdata><p1>3</p1><p2>0</p2><p3>1</p3><p4>AC37603100</p4><p5>1.00</p5><p7>TID</p7><p8>100.00</p8><p9>PO</p9><p10>9.0</p10><p11>2.00</p11><p12>18</p12><p13>1</p13><p14>11307020930</p14><p15>11307020930</p15></pdata>
      <pdata><p1>3</p1><p2>0</p2><p3>1</p3><p4>A013382100</p4><p5>1.00</p5><p7>TID</p7><p8>100.00</p8><p9>PO</p9><p10>9.0</p10><p11>1.50</p11><p12>14</p12><p13>2</p13><p14>11307020930</p14><p15>11307020930</p15></pdata>
      <pdata><p1>3</p1><p2>0</p2><p3>1</p3><p4>A037807100</p4><p5>1.00</p5><p7>HS</p7><p8>100.00</p8><p9>PO</p9><p10>3.0</p10><p11>3.20</p11><p12>10</p12><p13>3</p13><p14>11307020930</p14><p15>11307020930</p15></pdata>
      <pdata><p3>0</p3><p4>00109C</p4><p8>100.00</p8><p10>1.0</p10><p11>364.00</p11><p12>364</p12><p13>4</p13><p14>11307020930</p14><p15>11307020930</p15><p16>E120000001</p16></pdata>
    </dbody>
  </ddata>
  <ddata>
    <dhead><d1>01</d1><d2>2</d2></dhead>
    <dbody>
      <d3>K109876546</d3><d8>04</d8><d9>1130705</d9><d11>1120101</d11><d14>4</d14><d15>902</d15><d18>N</d18>
      <d19>J069</d19><d27>3</d27><d28>0</d28><d29>0003</d29><d30>E120000001</d30>
      <d32>9</d32><d35>00109C</d35><d36>364</d36><d39>373</d39><d40>0</d40><d41>373</d41><d49>林小寶</d49>
      <pdata><p1>3</p1><p2>0</p2><p3>1</p3><p4>AC37603100</p4><p5>0.50</p5><p7>TID</p7><p8>100.00</p8><p9>PO</p9><p10>4.5</p10><p11>2.00</p11><p12>9</p12><p13>1</p13><p14>11307051015</p14><p15>11307051015</p15></pdata>
      <pdata><p3>0</p3><p4>00109C</p4><p8>100.00</p8><p10>1.0</p10><p11>364.00</p11><p12>364</p12><p13>2</p13><p14>11307051015</p14><p15>11307051015</p15><p16>E120000001</p16></pdata>
    </dbody>
  </ddata>
  <ddata>
    <dhead><d1>04</d1><d2>1</d2></dhead>
    <dbody>
      <d3>F131104093</d3><d8>02</d8><d9>1130715</d9><d11>0450108</d11><d14>4</d14><d15>D12</d15><d18>N</d18>
      <d19>I10</d19><d20>E119</d20><d27>28</d27><d28>0</d28><d29>0013</d29><d30>E120000001</d30>
      <d32>199</d32><d35>00109C</d35><d36>364</d36><d39>563</d39><d40>70</d40><d41>493</d41><d49>陳大華</d49><d57>50</d57><d58>20</d58>
      <pdata><p1>28</p1><p2>0</p2><p3>1</p3><p4>AB57740100</p4><p5>1.00</p5><p7>QD</p7><p8>100.00</p8><p9>PO</p9><p10>28.0</p10><p11>3.50</p11><p12>98</p12><p13>1</p13><p14>11307151400</p14><p15>11307151400</p15></pdata>
      <pdata><p1>28</p1><p2>0</p2><p3>1</p3><p4>AC25866100</p4><p5>1.00</p5><p7>BID</p7><p8>100.00</p8><p9>PO</p9><p10>56.0</p10><p11>1.80</p11><p12>101</p12><p13>2</p13><p14>11307151400</p14><p15>11307151400</p15></pdata>
      <pdata><p3>0</p3><p4>00109C</p4><p8>100.00</p8><p10>1.0</p10><p11>364.00</p11><p12>364</p12><p13>3</p13><p14>11307151400</p14><p15>11307151400</p15><p16>E120000001</p16></pdata>
    </dbody>
  </ddata>
</outpatient>
"""

# {V}: the visit date YYYMMDD (yesterday); the rest is the §4.2 example verbatim.
_IC10_EXAMPLE = """<?xml version="1.0" encoding="Big5"?>
<RECS>
<REC>
<MSH><A00>1</A00><A01>1</A01><A02>1.0</A02></MSH>
<MB>
<MB1><A11>001234567890</A11><A12>A123456789</A12><A13>0680315</A13><A14>3501200000</A14><A15>E120000001</A15><A16>100000000123</A16><A17>{V}093015</A17><A18>0012</A18><A19>1</A19><A22>17EBEFB5407E8D136650B7C4178E57862CA2EE16DAA56707970D92353B6B465D1E034B355D50F93561B0550D37280D349043EBF5B22479ACDA743562E7414496</A22><A23>01</A23><A25>J069</A25><A31>406</A31><A32>50</A32></MB1>
<MB2><A71>{V}093015</A71><A72>1</A72><A73>AC37603100</A73><A75>TID PO</A75><A76>3</A76><A77>9.0</A77><A78>01</A78><A79>26F17306B95AAE8923A7F19D1E5AB8F60B7C65FF</A79></MB2>
<MB2><A71>{V}093015</A71><A72>1</A72><A73>A013382100</A73><A75>TID PO</A75><A76>3</A76><A77>9.0</A77><A78>01</A78><A79>8FE4509023E77893068BD722D512AF8FB8CE88B6</A79></MB2>
<MB2><A71>{V}093015</A71><A72>1</A72><A73>A037807100</A73><A75>HS PO</A75><A76>3</A76><A77>3.0</A77><A78>01</A78><A79>C9D63B5FA463678E3DFC81BD4CE8553F74ED3EC9</A79></MB2>
</MB>
</REC>
</RECS>
"""

_IC20_EXAMPLE = """<?xml version="1.0" encoding="Big5"?>
<RECS>
<REC>
<MSH><H00>1</H00><H01>A</H01></MSH>
<MB>
<MB1><M01>100000000123</M01><M02>001234567890</M02><M03>A123456789</M03><M04>0680315</M04><M05>3501200000</M05><M06>E120000001</M06><M07>01</M07><M11>{V}093015</M11><M12>1</M12><M13>0012</M13><M14>17EBEFB5407E8D136650B7C4178E57862CA2EE16DAA56707970D92353B6B465D1E034B355D50F93561B0550D37280D349043EBF5B22479ACDA743562E7414496</M14><M15>P1S3CYRW0NXLD7M2J2KD</M15><M20>3</M20><M23>0</M23><M24>1</M24><M35>J069</M35><M44>406</M44><M45>50</M45><M51>4</M51><M53>50</M53><M56>11</M56></MB1>
<MB2><D01>{V}093015</D01><D02>1</D02><D03>001</D03><D04>A</D04><D05>0</D05><D06>AC37603100</D06><D08>TID</D08><D09>03</D09><D10>00009.0</D10><D11>26F17306B95AAE8923A7F19D1E5AB8F60B7C65FF</D11><D14>PO</D14></MB2>
<MB2><D01>{V}093015</D01><D02>1</D02><D03>002</D03><D04>A</D04><D05>0</D05><D06>A013382100</D06><D08>TID</D08><D09>03</D09><D10>00009.0</D10><D11>8FE4509023E77893068BD722D512AF8FB8CE88B6</D11><D14>PO</D14></MB2>
<MB2><D01>{V}093015</D01><D02>1</D02><D03>003</D03><D04>A</D04><D05>0</D05><D06>A037807100</D06><D08>HS</D08><D09>03</D09><D10>00003.0</D10><D11>C9D63B5FA463678E3DFC81BD4CE8553F74ED3EC9</D11><D14>PO</D14></MB2>
</MB>
</REC>
</RECS>
"""


def valid_claims_example() -> bytes:
    """The §4.2 門診 example (3 cases, t37 = 3, t38 = 1222) as cp950 bytes."""
    return _CLAIMS_EXAMPLE.encode(ENCODING)


def _visit_day(today: date | None) -> date:
    """The examples' visit date: the day before `today` (Taipei today by default)."""
    return (today or taipei_today()) - timedelta(days=1)


def _ic_text(version: str, today: date | None) -> str:
    """The §4.2 IC example as text, the visit dated yesterday at 09:30:15."""
    template = {"1.0": _IC10_EXAMPLE, "2.0": _IC20_EXAMPLE}.get(version)
    if template is None:
        raise ValueError(f"version 須為 1.0 或 2.0，收到 {version!r}")
    return template.replace("{V}", roc_date(_visit_day(today)))


def valid_ic_example(version: str = "1.0", *, today: date | None = None) -> bytes:
    """The §4.2 IC REC (1.0 or 2.0) as cp950 bytes, the visit yesterday at 09:30:15."""
    return _ic_text(version, today).encode(ENCODING)


# --------------------------------------------------------------------------------------------
# The seeded-error catalogue (§4.3)
# --------------------------------------------------------------------------------------------


@dataclass
class Mutation:
    """One row of FORMATS §4.3: how to break the §4.2 example and what the checker must report."""

    id: str  # "C13"
    kind: str  # "claims" | "ic10" | "ic20"
    description: str  # the table's mutation text
    expected: tuple[str, ...]  # codes the checker must report (IC: the bare code, e.g. "AD01")
    whole_file: bool  # 退件: the whole file is refused (FORMATS §2.6 stages 1–3, §3.2)
    alternatives: tuple[str, ...] = ()  # accepted instead of expected[0] ("R203 (or R206)")
    form: dict = field(default_factory=dict)  # upload-form values that differ from EXAMPLE_FORMS
    where: tuple[str, ...] = ()  # IC report pairs as the table writes them ("A18:AD01", "A78[1]:AD10")
    tolerated: tuple[str, ...] = ()  # codes the checker may report as well ("AD14 may also be reported")
    warning_only: bool = False  # only 警告: the result is still 「檢核正確」
    make: Callable[[date | None], list[tuple[str, bytes]]] | None = field(default=None, repr=False,
                                                                         compare=False)

    def build(self, *, today: date | None = None) -> list[tuple[str, bytes]]:
        """The file(s) to upload, in order, as (file name, bytes)."""
        if self.make is None:
            raise ValueError(f"{self.id}: no builder")
        return self.make(today)

    def upload_form(self) -> dict:
        """The whole upload form: the example's, with this mutation's overrides."""
        return {**EXAMPLE_FORMS[self.kind], **self.form}


CLAIMS_ZIP_NAME = "3501200000111130713B.zip"  # {院所}11{費用年月}{申報類別 1}{全月 3}B.zip (MYCIS style)


def _zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    """An in-memory deflate ZIP holding the entries, in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 8, 5, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    """text with `old` replaced `count` times; fails loudly when the example no longer holds `old`."""
    if text.count(old) < count:
        raise ValueError(f"the example does not contain {old!r} {count} time(s)")
    return text.replace(old, new, count)


def _claims_text_mutation(change: Callable[[str], str]) -> Callable[[date | None], list[tuple[str, bytes]]]:
    """A builder: change the example's text, encode cp950, zip as TOTFA.xml."""
    def build(_today: date | None) -> list[tuple[str, bytes]]:
        """The mutated example, zipped."""
        return [(CLAIMS_ZIP_NAME, _zip_bytes([("TOTFA.xml", change(_CLAIMS_EXAMPLE).encode(ENCODING))]))]
    return build


_CASE1 = "<dhead><d1>01</d1><d2>1</d2></dhead>"
_CASE2_D2 = "<dhead><d1>01</d1><d2>2</d2></dhead>"


def _bomb(_today: date | None) -> list[tuple[str, bytes]]:
    """C4: the example with 50 MiB of spaces between two tags; deflate makes it ~50 KB (ratio ~1000:1)."""
    head, tail = _CLAIMS_EXAMPLE.split("<tdata>", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("TOTFA.xml", date_time=(2024, 8, 5, 9, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            entry.write(head.encode(ENCODING))
            spaces = b" " * 2**20
            for _ in range(50):
                entry.write(spaces)
            entry.write(("<tdata>" + tail).encode(ENCODING))
    return [(CLAIMS_ZIP_NAME, buffer.getvalue())]


def _c26(text: str) -> str:
    """C26: case 2 keeps 902 but charges 50; d41 and the totals follow, so only R414 remains."""
    text = _replace(text, "<d40>0</d40><d41>373</d41>", "<d40>50</d40><d41>323</d41>")
    text = _replace(text, "<t8>729</t8>", "<t8>679</t8>")
    text = _replace(text, "<t18>1222</t18>", "<t18>1172</t18>")
    return _replace(text, "<t37>3</t37><t38>1222</t38><t39>2</t39><t40>120</t40>",
                    "<t37>3</t37><t38>1172</t38><t39>3</t39><t40>170</t40>")


def _c12(text: str) -> str:
    """C12: case 1's <d32> moved from dbody into dhead."""
    text = _replace(text, "<d32>42</d32>", "")
    return _replace(text, _CASE1, "<dhead><d1>01</d1><d2>1</d2><d32>42</d32></dhead>")


def _c21(text: str) -> str:
    """C21: case 1 dated 30 June; its p14/p15 move with it so only the month is wrong."""
    text = _replace(text, "<d9>1130702</d9>", "<d9>1130630</d9>")
    return text.replace("11307020930", "11306300930")


_CLAIMS_CHANGES: dict[str, Callable[[str], str]] = {
    "C7": lambda t: _replace(t, DECLARATION, ""),
    "C8": lambda t: _replace(_replace(t, "<outpatient>", "<OutPatient>"), "</outpatient>", "</OutPatient>"),
    "C9": lambda t: _replace(t, "</pdata>", ""),
    "C10": lambda t: _replace(t, DECLARATION, DECLARATION + '<!DOCTYPE x [<!ENTITY a "b">]>\n'),
    "C11": lambda t: _replace(t, "<d8>01</d8><d9>1130702</d9>", "<d9>1130702</d9><d8>01</d8>"),
    "C12": _c12,
    "C13": lambda t: _replace(t, "<t4>2</t4>", "<t4>22</t4>"),
    "C14": lambda t: _replace(t, "<d39>406</d39>", "<d39>4O6</d39>"),
    "C15": lambda t: _replace(t, "<d3>A123456789</d3>", ""),
    "C16": lambda t: _replace(t, "<t2>3501200000</t2>", "<t2>3501200001</t2>"),
    "C17": lambda t: t,
    "C18": lambda t: _replace(t, _CASE2_D2, "<dhead><d1>01</d1><d2>1</d2></dhead>"),
    "C19": lambda t: _replace(t, "<d3>A123456789</d3>", "<d3>A123456780</d3>"),
    "C20": lambda t: _replace(t, "<d9>1130702</d9>", "<d9>1130732</d9>"),
    "C21": _c21,
    "C22": lambda t: _replace(t, "<d19>J069</d19><d27>3</d27><d28>0</d28><d29>0012</d29>",
                              "<d19>J06.9</d19><d27>3</d27><d28>0</d28><d29>0012</d29>"),
    "C23": lambda t: _replace(t, "<p11>2.00</p11><p12>18</p12>", "<p11>2.00</p11><p12>19</p12>"),
    "C24": lambda t: _replace(t, "<d41>356</d41>", "<d41>357</d41>"),
    "C25": lambda t: _replace(t, "<t37>3</t37>", "<t37>4</t37>"),
    "C26": _c26,
    "C27": lambda t: _replace(t, "<d3>A123456789</d3>", "<d3>A123456789</d3><d4></d4>"),
}


def _claims_special(mutation_id: str) -> Callable[[date | None], list[tuple[str, bytes]]]:
    """Builders of C1–C6, which change the package or the bytes rather than the text."""
    example = _CLAIMS_EXAMPLE.encode(ENCODING)
    if mutation_id == "C1":
        return lambda _today: [("TOTFA.xml", example)]
    if mutation_id == "C2":
        readme = "申報檔說明：本壓縮檔含門診申報資料。\r\n".encode(ENCODING)
        return lambda _today: [(CLAIMS_ZIP_NAME, _zip_bytes([("TOTFA.xml", example), ("readme.txt", readme)]))]
    if mutation_id == "C3":
        return lambda _today: [(CLAIMS_ZIP_NAME, _zip_bytes([("../TOTFA.xml", example)]))]
    if mutation_id == "C4":
        return _bomb
    if mutation_id == "C5":
        return lambda _today: [(CLAIMS_ZIP_NAME, _zip_bytes([("TOTFA.xml", _CLAIMS_EXAMPLE.encode("utf-8"))]))]
    if mutation_id == "C6":
        # 0x80 is neither a Big5 lead byte nor in the 造字 ranges (0x81–0xA0, 0xFA–0xFE), so the
        # name is not "user-defined" (FORMATS §4.4 item 17): b"\x80\x80".decode("cp950") fails.
        broken = example.replace("王".encode(ENCODING), b"\x80\x80", 1)
        return lambda _today: [(CLAIMS_ZIP_NAME, _zip_bytes([("TOTFA.xml", broken)]))]
    return _claims_text_mutation(_CLAIMS_CHANGES[mutation_id])


def _ic_upload_name(today: date | None, minute: int = 0) -> str:
    """院所代號_上傳民國日期時間.xml (SEED-003 style), uploaded today at 09:00 (+ minute)."""
    return f"{DEFAULT_INSTITUTION}_{roc_date(today or taipei_today())}09{minute:02d}00.xml"


def _ic_mutation(version: str, change: Callable[[str, date], str]) -> Callable[[date | None], list[tuple[str, bytes]]]:
    """A builder: change the dated IC example's text (the change sees the visit date), encode cp950."""
    def build(today: date | None) -> list[tuple[str, bytes]]:
        """The mutated IC example."""
        text = change(_ic_text(version, today), _visit_day(today))
        return [(_ic_upload_name(today), text.encode(ENCODING))]
    return build


def _restamp(text: str, old_day: date, moment: datetime) -> str:
    """Every visit time (A17, A71 / M11, D01) of the example set to `moment`."""
    return text.replace(f"{roc_date(old_day)}093015", roc_second(moment))


def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's end)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    first = date(year, month + 1, 1)
    return min(first.replace(day=1) + timedelta(days=day.day - 1), month_end(first))


def _i14(text: str, visit_day: date) -> str:
    """I14: the visit (A17 and every A71) one hour after now."""
    today = visit_day + timedelta(days=1)
    clock = taipei_now()
    moment = datetime.combine(today, clock.time()) + timedelta(hours=1)
    return _restamp(text, visit_day, moment)


def _i24(today: date | None) -> list[tuple[str, bytes]]:
    """I24: a valid record (its own visit time, so no other test's upload collides), uploaded twice."""
    visit_day = _visit_day(today)
    text = _restamp(_ic_text("1.0", today), visit_day, datetime.combine(visit_day, datetime.min.time())
                    + timedelta(hours=10, minutes=5, seconds=42))
    data = text.encode(ENCODING)
    return [(_ic_upload_name(today, 0), data), (_ic_upload_name(today, 5), data)]


def _i25(text: str, visit_day: date) -> str:
    """I25: 補正上傳 (A01 = 3) of a visit nobody uploaded: another patient at another time."""
    text = _replace(text, "<A01>1</A01>", "<A01>3</A01>")
    text = _replace(text, "<A12>A123456789</A12><A13>0680315</A13>", "<A12>F131104093</A12><A13>0450108</A13>")
    return _restamp(text, visit_day, datetime.combine(visit_day, datetime.min.time())
                    + timedelta(hours=11, minutes=11, seconds=11))


def _i26(text: str, visit_day: date) -> str:
    """I26: the visit four months before today."""
    today = visit_day + timedelta(days=1)
    old = datetime.combine(_months_before(today, 4), datetime.min.time()) + timedelta(hours=9, minutes=30, seconds=15)
    return _restamp(text, visit_day, old)


def _i27(text: str, _visit_day: date) -> str:
    """I27 (2.0): 501 <MB2> in one REC (numbered 001–501)."""
    first = re.search(r"<MB2>.*?</MB2>\n", text).group(0)
    lines = "".join(first.replace("<D03>001</D03>", f"<D03>{n:03d}</D03>") for n in range(1, 502))
    start = text.index("<MB2>")
    end = text.rindex("</MB2>\n") + len("</MB2>\n")
    return text[:start] + lines + text[end:]


def _i29(text: str, _visit_day: date) -> str:
    """I29 (2.0): 就醫類別 AE (慢箋領藥) without any <MB2>; M13/M20/M24 dropped so only Y012 is left."""
    text = re.sub(r"<MB2>.*?</MB2>\n", "", text)
    text = _replace(text, "<M07>01</M07>", "<M07>AE</M07>")
    for tag in ("<M13>0012</M13>", "<M20>3</M20>", "<M24>1</M24>"):
        text = _replace(text, tag, "")
    return text


def _anomaly_10(text: str, keep_a16: bool) -> str:
    """1.0 example as an anomaly record: A01 = 2, A18 = A000, no A11/A22/A79 (and no A16 unless kept)."""
    text = _replace(text, "<A01>1</A01>", "<A01>2</A01>")
    text = _replace(text, "<A18>0012</A18>", "<A18>A000</A18>")
    text = re.sub(r"<A11>\d+</A11>", "", text)
    text = re.sub(r"<A22>[0-9A-F]+</A22>", "", text)
    text = re.sub(r"<A79>[0-9A-F]+</A79>", "", text)
    return text if keep_a16 else re.sub(r"<A16>\d+</A16>", "", text)


_IC_CHANGES: dict[str, Callable[[str, date], str]] = {
    "I1": lambda t, d: _replace(t, "</RECS>\n", ""),
    "I2": lambda t, d: re.sub(r"<MSH>.*?</MSH>\n", "", t, count=1),
    "I3": lambda t, d: re.sub(r"<MB1>.*?</MB1>\n", "", t, count=1),
    "I4": lambda t, d: _replace(t, "<A14>3501200000</A14>", "<A14>3503250461</A14>"),
    "I5": lambda t, d: _replace(t, "</RECS>\n", "</RECS>\n" + t[t.index("<RECS>"):]),
    "I6": lambda t, d: _replace(t, "<A01>1</A01>", "<A01>5</A01>"),
    "I7": lambda t, d: _replace(t, "<A18>0012</A18>", "<A18>1501</A18>"),
    "I8": lambda t, d: _replace(t, "<A01>1</A01>", "<A01>2</A01>"),
    "I9": lambda t, d: _replace(t, "<A23>01</A23>", "<A23>AC</A23>"),
    "I10": lambda t, d: _replace(t, "<A23>01</A23>", "<A23>AE</A23>"),
    "I11": lambda t, d: _replace(t, "<A78>01</A78>", "<A78>03</A78>"),
    "I12": lambda t, d: _replace(t, "<A76>3</A76>", "<A76>0</A76>"),
    "I13": lambda t, d: _replace(t, "<A76>3</A76>", "<A76>93</A76>"),
    "I14": _i14,
    "I15": lambda t, d: _replace(t, "<A13>0680315</A13>", f"<A13>{roc_date(d + timedelta(days=1))}</A13>"),
    "I16": lambda t, d: _replace(t, "<A23>01</A23>", "<A23>01</A23><A24>a</A24>"),
    "I17": lambda t, d: _replace(t, f"<A71>{roc_date(d)}093015</A71>", f"<A71>{roc_date(d)}093115</A71>"),
    "I18": lambda t, d: _replace(t, "<A31>406</A31>", ""),
    "I19": lambda t, d: _replace(_replace(t, "<A25>J069</A25>", ""), "<A23>01</A23>", "<A23>ZB</A23>"),
    "I20": lambda t, d: _replace(t, "<A32>50</A32>", "<A32>50</A32><A41>01</A41><A44>21</A44>"),
    "I21": lambda t, d: _replace(t, "<A11>001234567890</A11>", "<A11>@#$%^^&amp;*</A11>"),
    "I22": lambda t, d: _replace(t, "<A15>E120000001</A15>", ""),
    "I23": lambda t, d: _anomaly_10(t, keep_a16=True),
    "I25": _i25,
    "I26": _i26,
    "I27": _i27,
    "I28": lambda t, d: _replace(t, "<D03>002</D03>", "<D03>001</D03>"),
    "I29": _i29,
}

# (id, description as in §4.3, expected, alternatives, whole file, where, tolerated, warning only, form)
_CLAIMS_ROWS = (
    ("C1", "upload the XML without ZIP", ("R101",), (), True, (), (), False, {}),
    ("C2", "ZIP with TOTFA.xml + readme.txt", ("R102",), (), True, (), (), False, {}),
    ("C3", "ZIP entry named `../TOTFA.xml`", ("R103",), (), True, (), (), False, {}),
    ("C4", "1 KB XML padded to exceed the size limit, or a 1 000:1 compressed blob", ("R105",), (), True, (), (),
     False, {}),
    ("C5", "save as UTF-8 (Chinese names become invalid Big5)", ("R201",), (), True, (), (), False, {}),
    ("C6", "replace 王 in d49 by a byte pair cp950 cannot decode (e.g. `\\x80\\x80`)", ("R201",), (), True, (), (),
     False, {}),
    ("C7", "remove the XML declaration", ("R202",), (), True, (), (), False, {}),
    ("C8", "rename root to `<OutPatient>`", ("R203",), ("R206",), True, (), (), False, {}),
    ("C9", "drop `</pdata>` once", ("R204",), ("R208",), True, (), (), False, {}),
    ("C10", 'add `<!DOCTYPE x [<!ENTITY a "b">]>`', ("R205",), ("R203",), True, (), (), False, {}),
    ("C11", "swap `<d9>` and `<d8>`", ("R207",), (), True, (), (), False, {}),
    ("C12", "move `<d32>` into `<dhead>`", ("R208",), (), True, (), (), False, {}),
    ("C13", "`<t4>22</t4>`", ("R209",), (), True, (), (), False, {}),
    ("C14", "`<d39>4O6</d39>` (letter O)", ("R210",), (), True, (), (), False, {}),
    ("C15", "delete `<d3>` of case 1", ("R212",), (), True, (), (), False, {}),
    ("C16", "`<t2>3501200001</t2>` while logged in as 3501200000", ("R302",), (), True, (), (), False, {}),
    ("C17", "form 費用年月 11308", ("R303",), (), True, (), (), False, {"fee_month": "11308"}),
    ("C18", "second case `<d2>1</d2>` (duplicate key)", ("R403",), (), False, (), (), False, {}),
    ("C19", "`<d3>A123456780</d3>`", ("R405",), (), False, (), (), False, {}),
    ("C20", "`<d9>1130732</d9>`", ("R408",), (), False, (), (), False, {}),
    ("C21", "`<d9>1130630</d9>` (June in a July file)", ("R410",), (), False, (), (), False, {}),
    ("C22", "`<d19>J06.9</d19>`", ("R416",), (), False, (), (), False, {}),
    ("C23", "`<p12>19</p12>` on case 1 line 1", ("R505", "R424"), (), False, (), (), False, {}),
    ("C24", "`<d41>357</d41>`", ("R430", "R602"), (), False, (), ("R606",), False, {}),
    ("C25", "`<t37>4</t37>`", ("R601",), (), False, (), (), False, {}),
    ("C26", "`<d15>902</d15><d40>50</d40>` (with d41 fixed)", ("R414",), (), False, (), (), True, {}),
    ("C27", "empty `<d4></d4>`", ("R213",), (), False, (), (), True, {}),
)

_IC_ROWS = (
    ("I1", "ic10", "remove `</RECS>`", ("Y007",), (), True, (), ()),
    ("I2", "ic10", "remove `<MSH>…</MSH>` from one REC", ("Y005",), (), True, (), ()),
    ("I3", "ic10", "MB2 present, MB1 removed", ("Y005",), (), True, (), ()),
    ("I4", "ic10", "A14 / M05 = another institution", ("07",), (), True, (), ()),
    ("I5", "ic20", "two `<RECS>` blocks (2.0)", ("Y015",), (), True, (), ()),
    ("I6", "ic10", "`<A01>5</A01>`", ("Y008",), (), False, (), ()),
    ("I7", "ic10", "`<A18>1501</A18>` with A23=01", ("AD01",), (), False, ("A18:AD01",), ()),
    ("I8", "ic10", "`<A01>2</A01>` with A18=0012", ("AD02", "AF"), (), False,
     ("A18:AD02", "A11:AF", "A16:AF", "A22:AF", "A79[1]:AF"), ()),
    ("I9", "ic10", "A23=AC with A18=0012", ("AD13",), (), False, ("A18:AD13",), ("AD14",)),
    ("I10", "ic10", "A23=AE (normal), A18=0012", ("AD14",), (), False, ("A18:AD14",), ()),
    ("I11", "ic10", "A72=1 with A78=03", ("AD10",), (), False, ("A78[1]:AD10",), ()),
    ("I12", "ic10", "A76=0 on a drug line", ("AH",), ("AA01",), False, ("A76[1]:AH",), ()),
    ("I13", "ic10", "A76=93", ("AG",), (), False, ("A76[1]:AG",), ()),
    ("I14", "ic10", "A17 one hour in the future", ("BD",), (), False, ("A17:BD",), ()),
    ("I15", "ic10", "A13 after A17", ("BG",), (), False, ("A13:BG",), ()),
    ("I16", "ic10", "A24=`a` without A20/A21", ("BB",), (), False, ("A24:BB",), ("BC",)),
    ("I17", "ic10", "A71 ≠ A17", ("BE",), (), False, ("A71[1]:BE",), ()),
    ("I18", "ic10", "A31 empty with A23=01", ("AH01",), (), False, ("A31:AH01",), ()),
    ("I19", "ic10", "A23=ZB with no A25–A30", ("AD03", "AD14"), (), False, ("A25:AD03", "A18:AD14"), ()),
    ("I20", "ic10", "A41=01 with A44=21", ("AD04",), (), False, ("A44:AD04",), ()),
    ("I21", "ic10", "A11=`@#$%^^&*` (XML-escaped)", ("AB",), (), False, ("A11:AB",), ()),
    ("I22", "ic10", "A15 missing", ("AA",), (), False, ("A15:AA",), ()),
    ("I23", "ic10", "A16 present in an anomaly (A01=2) record", ("AF",), (), False, ("A16:AF",), ()),
    ("I24", "ic10", "same REC uploaded twice (second file)", ("C001",), (), False, (), ()),
    ("I25", "ic10", "A01=3 for a visit never uploaded", ("Y009",), (), False, (), ()),
    ("I26", "ic10", "visit 4 months old", ("BH",), (), False, ("A17:BH",), ()),
    ("I27", "ic20", "2.0: 501 MB2 in one REC", ("AG",), (), False, (), ()),
    ("I28", "ic20", "2.0: D03 `001` twice", ("D028",), (), False, ("D03[2]:D028",), ()),
    ("I29", "ic20", "2.0: M07=AE without MB2", ("Y012",), (), False, (), ()),
)


def _catalogue() -> dict[str, Mutation]:
    """Every §4.3 row as a Mutation, claims first, in table order."""
    table: dict[str, Mutation] = {}
    for mid, text, expected, alternatives, whole, where, tolerated, warning, form in _CLAIMS_ROWS:
        table[mid] = Mutation(mid, "claims", text, expected, whole, alternatives, dict(form), where, tolerated,
                              warning, _claims_special(mid))
    for mid, kind, text, expected, alternatives, whole, where, tolerated in _IC_ROWS:
        version = "2.0" if kind == "ic20" else "1.0"
        make = _i24 if mid == "I24" else _ic_mutation(version, _IC_CHANGES[mid])
        table[mid] = Mutation(mid, kind, text, expected, whole, alternatives, {}, where, tolerated, False, make)
    return table


MUTATIONS: dict[str, Mutation] = _catalogue()


# --------------------------------------------------------------------------------------------
# Command line: python -m portal.checks.samples
# --------------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'5MB' → 5 MiB in bytes (K, M, G are powers of 1024; a bare number is bytes)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"大小格式錯誤：{text!r}（例如 5MB、200MB、1GB）")
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[match.group(2).upper()]
    return int(float(match.group(1)) * scale)


def _parse_day(text: str) -> date:
    """2024-07-02 or ROC 1130702."""
    try:
        if re.fullmatch(r"\d{7}", text):
            return date(int(text[:3]) + 1911, int(text[3:5]), int(text[5:]))
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式錯誤：{text!r}（例如 2024-07-02 或 1130702）") from None


def _peak_memory() -> str:
    """This process's peak resident memory (VmHWM), for the summary line."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (zh-TW help)."""
    parser = argparse.ArgumentParser(
        prog="python -m portal.checks.samples",
        description="產生檢核用範例檔：醫療費用申報 XML/ZIP、健保卡就醫資料上傳 XML，以及預設錯誤之測試檔（FORMATS §4）。")
    sub = parser.add_subparsers(dest="command", required=True)
    claims = sub.add_parser("claims", help="產生醫療費用申報檔（門診或住院），--out 為 .zip 或 .xml")
    claims.add_argument("--kind", choices=("op", "ip"), default="op", help="op 門診（預設）、ip 住院")
    size = claims.add_mutually_exclusive_group()
    size.add_argument("--cases", type=int, help="件數（點數清單筆數）")
    size.add_argument("--size", type=parse_size, help="XML 目標大小，例如 5MB、200MB、1GB（±10%%）")
    claims.add_argument("--institution", default=DEFAULT_INSTITUTION, help="醫事機構代碼（預設 3501200000）")
    claims.add_argument("--fee-month", default=DEFAULT_FEE_MONTH, help="費用年月 YYYMM（預設 11307）")
    claims.add_argument("--seed", type=int, default=1, help="亂數種子：相同種子產生相同檔案")
    claims.add_argument("--out", required=True, type=Path, help="輸出檔：.zip（上傳用）或 .xml")
    ic = sub.add_parser("ic", help="產生健保卡就醫資料上傳 XML（1.0 或 2.0）")
    ic.add_argument("--version", choices=("1.0", "2.0"), default="1.0", help="上傳格式版本（預設 1.0）")
    amount = ic.add_mutually_exclusive_group()
    amount.add_argument("--records", type=int, help="REC 筆數")
    amount.add_argument("--size", type=parse_size, help="目標大小，例如 20MB（±10%%）")
    ic.add_argument("--institution", default=DEFAULT_INSTITUTION, help="醫事機構代碼（預設 3501200000）")
    ic.add_argument("--day", type=_parse_day, help="就醫日期（預設昨天），例如 2024-07-02 或 1130702")
    ic.add_argument("--seed", type=int, default=1, help="亂數種子")
    ic.add_argument("--out", required=True, type=Path, help="輸出 XML 檔")
    mutation = sub.add_parser("mutation", help="產生一個預設錯誤測試檔並列出應檢出之錯誤代碼")
    mutation.add_argument("id", help="例如 C13、I7（見 catalogue）")
    mutation.add_argument("--out", type=Path, default=Path("."), help="輸出目錄（預設目前目錄）")
    mutation.add_argument("--today", type=_parse_day, help="以此日為「今天」（健保卡檔之日期以此推算）")
    sub.add_parser("catalogue", help="列出預設錯誤目錄（代號、應檢出代碼、說明）")
    return parser


def _expected_text(mutation: Mutation) -> str:
    """'R203（或 R206）' style, as the catalogue prints it."""
    text = "+".join(mutation.expected)
    if mutation.alternatives:
        text += "（或 " + "、".join(mutation.alternatives) + "）"
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.command == "claims":
        options = {"kind": args.kind, "institution": args.institution, "fee_month": args.fee_month,
                   "cases": args.cases, "target_bytes": args.size, "seed": args.seed}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.suffix.lower() == ".zip":
            totals = claims_zip(args.out, **options)
        else:
            with args.out.open("wb") as handle:
                totals = write_claims(handle, **options)
        elapsed = time.perf_counter() - started
        print(f"已產生 {args.out}：{args.out.stat().st_size:,} bytes（XML {totals.bytes:,} bytes），"
              f"{totals.cases:,} 件、醫令 {totals.orders:,} 筆、申請點數 {totals.points:,}、部分負擔 {totals.copay:,}；"
              f"{elapsed:.1f} 秒，峰值記憶體 {_peak_memory()}")
        return 0
    if args.command == "ic":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("wb") as handle:
            totals = write_ic(handle, version=args.version, institution=args.institution, day=args.day,
                              records=args.records, target_bytes=args.size, seed=args.seed)
        elapsed = time.perf_counter() - started
        rate = totals.records / elapsed if elapsed else 0
        print(f"已產生 {args.out}：{totals.bytes:,} bytes，REC {totals.records:,} 筆（異常 {totals.anomalies:,}）、"
              f"MB2 {totals.orders:,} 筆；{elapsed:.1f} 秒（{rate:,.0f} REC/秒），峰值記憶體 {_peak_memory()}")
        return 0
    if args.command == "mutation":
        mutation = MUTATIONS.get(args.id.upper())
        if mutation is None:
            print(f"查無預設錯誤代號 {args.id!r}；請用 catalogue 列出全部代號。", file=sys.stderr)
            return 2
        args.out.mkdir(parents=True, exist_ok=True)
        for number, (name, data) in enumerate(mutation.build(today=args.today), 1):
            target = args.out / (f"{mutation.id}_{number}_{name}")
            target.write_bytes(data)
            print(f"已產生 {target}（{len(data):,} bytes）")
        print(f"{mutation.id}：{mutation.description}")
        print(f"應檢出：{_expected_text(mutation)}" + ("（整檔退件）" if mutation.whole_file else "")
              + ("（僅警告，仍為「檢核正確」）" if mutation.warning_only else ""))
        if mutation.where:
            print("報表欄位：" + " ".join(mutation.where))
        if mutation.form:
            print("上傳表單：" + "、".join(f"{k}={v}" for k, v in mutation.form.items()))
        return 0
    for mutation in MUTATIONS.values():
        flag = "退件" if mutation.whole_file else ("警告" if mutation.warning_only else "")
        print(f"{mutation.id:<4} {mutation.kind:<6} {_expected_text(mutation):<18} {flag:<4} {mutation.description}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
