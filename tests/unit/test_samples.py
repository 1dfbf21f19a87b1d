"""The sample-file generator (portal/checks/samples.py, FORMATS §4), checked with the stdlib only.

Every file is decoded as cp950 and parsed with xml.etree; the arithmetic of FORMATS §2.5 and
the ID checksum of §1.3 are recomputed here from the spec, not imported from the generator.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from portal.checks import samples

# --- §1.3 checksum, from the FORMATS pseudo-code ------------------------------------------------

LETTER = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
W = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]


def tw_id_ok(s: str) -> bool:
    """FORMATS §1.3 tw_id_ok, transcribed."""
    if re.fullmatch(r"[A-Z][1289]\d{8}", s):
        second = int(s[1])
    elif re.fullmatch(r"[A-Z][A-D]\d{8}", s):
        second = LETTER[s[1]] % 10
    else:
        return False
    v = LETTER[s[0]]
    digits = [v // 10, v % 10, second] + [int(c) for c in s[2:]]
    return sum(d * w for d, w in zip(digits, W, strict=True)) % 10 == 0


def test_checksum_transcription_matches_the_spec_vectors():
    """The test's own checksum accepts FORMATS' valid vectors and refuses its invalid ones."""
    for good in ("A123456789", "F131104093", "E101919343", "E120000001", "K109876546", "A800000014",
                 "AA00000009", "HD12345678"):
        assert tw_id_ok(good), good
    for bad in ("A123456780", "A100000000", "B287654329"):
        assert not tw_id_ok(bad), bad


# --- helpers --------------------------------------------------------------------------------------

EXEMPT = {f"{n:03d}" for n in range(1, 10)} | {"801", "802"} | {f"9{n:02d}" for n in range(1, 18)}
ANOMALY = {"A000", "A001", "A010", "A011", "A020", "A021", "A030", "A031", "B000", "B001", "C000", "C001",
           "D000", "D001", "E000", "E001"}


def parse(data: bytes) -> ET.Element:
    """Decode cp950 (as the checker must, FORMATS §1.1 E3) and parse."""
    text = data.decode("cp950")
    assert text.startswith('<?xml version="1.0" encoding="Big5"?>')
    return ET.fromstring(text.split("?>", 1)[1])


def fields(element: ET.Element) -> dict[str, str]:
    """The leaf children of an element as {tag: text}."""
    return {child.tag: child.text or "" for child in element if len(child) == 0}


def roc(text: str) -> date:
    """YYYMMDD → date."""
    return date(int(text[:3]) + 1911, int(text[3:5]), int(text[5:7]))


def tag_number(tag: str) -> int:
    """d41 → 41."""
    return int(tag[1:])


def assert_ascending(element: ET.Element) -> None:
    """Numbered children appear in ascending tag-number order, none empty (FORMATS E5, E6), recursively."""
    numbers = [tag_number(child.tag) for child in element if re.fullmatch(r"[a-zA-Z]\d+", child.tag)]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers)), element.tag
    for child in element:
        if len(child) == 0:
            assert child.text, f"empty <{child.tag}>"
            assert not set(child.text) & set("<>&'\""), child.text
        else:
            assert_ascending(child)


def half_up(value: Decimal) -> int:
    """Round half up to an integer."""
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def pair_of(d1: str) -> str:
    """The 總表 count tag of a 門診 案件分類 (FORMATS §2.4.2)."""
    return "t7" if d1 == "01" else "t9"


def check_outpatient(root: ET.Element) -> dict[str, int]:
    """Every §2.5 identity and §2.6 case rule the generator promises; returns the recomputed totals."""
    assert root.tag == "outpatient"
    assert_ascending(root)
    t = fields(root.find("tdata"))
    fee_month = t["t3"]
    serials: dict[str, list[int]] = defaultdict(list)
    pairs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    totals = {"cases": 0, "claimed": 0, "copay": 0, "copay_cases": 0}
    for case in root.iter("ddata"):
        head, body = fields(case.find("dhead")), case.find("dbody")
        d = fields(body)
        serials[head["d1"]].append(int(head["d2"]))
        assert tw_id_ok(d["d3"]) and tw_id_ok(d["d30"]), (d["d3"], d["d30"])
        if "d31" in d:
            assert tw_id_ok(d["d31"])
        visit = roc(d["d9"])
        assert f"{visit.year - 1911:03d}{visit.month:02d}" == fee_month
        assert roc(d["d11"]) <= visit
        assert re.fullmatch(r"0\d{3}|1[0-4]\d{2}|1500", d["d29"]) and d["d29"] != "0000" or d["d29"] in ANOMALY
        for tag in ("d19", "d20", "d21", "d22", "d23"):
            if tag in d:
                assert re.fullmatch(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}", d[tag]), d[tag]
        sums: dict[str, int] = defaultdict(int)
        first_code: dict[str, str] = {}
        sequence = []
        drug_days = []
        for order in body.iter("pdata"):
            p = fields(order)
            rate = Decimal(p.get("p8", "100"))
            assert int(p["p12"]) == half_up(Decimal(p["p10"]) * Decimal(p["p11"]) * rate / 100), p
            sums[p["p3"]] += int(p["p12"])
            first_code.setdefault(p["p3"], p["p4"])
            sequence.append(int(p["p13"]))
            assert p["p14"] <= p["p15"] and p["p14"][:7] == d["d9"] and len(p["p14"]) == 11
            if p["p3"] == "1":
                assert p["p1"] and p["p7"] and p["p9"]
                drug_days.append(int(p["p1"]))
            if "p16" in p:
                assert tw_id_ok(p["p16"])
        assert sequence == list(range(1, len(sequence) + 1))
        if drug_days:
            assert int(d["d27"]) >= max(drug_days)
        for kind, tag in (("1", "d32"), ("2", "d33"), ("3", "d34"), ("0", "d36"), ("9", "d38")):
            assert int(d.get(tag, "0")) == sums[kind], (tag, d, sums)
        if "0" in first_code:
            assert d["d35"] == first_code["0"]
        if "9" in first_code:
            assert d["d37"] == first_code["9"]
        d39 = sum(int(d.get(tag, "0")) for tag in ("d32", "d33", "d34", "d36", "d38"))
        assert int(d["d39"]) == d39
        d40 = int(d["d40"])
        assert 0 <= d40 <= d39
        if d["d15"] in EXEMPT:
            assert d40 == 0
        assert int(d["d41"]) == d39 - d40
        totals["cases"] += 1
        totals["claimed"] += d39 - d40
        totals["copay"] += d40
        totals["copay_cases"] += d40 > 0
        pairs[pair_of(head["d1"])][0] += 1
        pairs[pair_of(head["d1"])][1] += d39 - d40
    for numbers in serials.values():
        assert numbers == list(range(1, len(numbers) + 1))
    assert int(t["t37"]) == totals["cases"]
    assert int(t["t38"]) == totals["claimed"]
    assert int(t["t39"]) == totals["copay_cases"]
    assert int(t["t40"]) == totals["copay"]
    for count_tag, (count, claimed) in pairs.items():
        assert int(t[count_tag]) == count
        assert int(t[f"t{tag_number(count_tag) + 1}"]) == claimed
    assert int(t.get("t17", "0")) == sum(int(t.get(tag, "0")) for tag in ("t7", "t9", "t11", "t13", "t15"))
    assert int(t.get("t18", "0")) == sum(int(t.get(tag, "0")) for tag in ("t8", "t10", "t12", "t14", "t16"))
    return totals


def claims_bytes(**options) -> bytes:
    """write_claims into memory."""
    buffer = io.BytesIO()
    samples.write_claims(buffer, **options)
    return buffer.getvalue()


def ic_bytes(**options) -> bytes:
    """write_ic into memory."""
    buffer = io.BytesIO()
    samples.write_ic(buffer, **options)
    return buffer.getvalue()


# --- claims -----------------------------------------------------------------------------------------


def test_the_spec_example_adds_up():
    """The §4.2 example: 3 cases, t38 = 356 + 373 + 493 = 1222, and every §2.5 identity holds."""
    root = parse(samples.valid_claims_example())
    t = fields(root.find("tdata"))
    assert (t["t37"], t["t38"]) == ("3", "1222")
    assert [fields(c.find("dbody"))["d49"] for c in root.iter("ddata")] == ["王小明", "林小寶", "陳大華"]
    assert check_outpatient(root) == {"cases": 3, "claimed": 1222, "copay": 120, "copay_cases": 2}


def test_a_generated_outpatient_month_adds_up_case_by_case():
    """400 generated cases: every p12, subtotal, d39–d41, key, ID, date and 總表 total is right."""
    buffer = io.BytesIO()
    totals = samples.write_claims(buffer, cases=400, seed=3)
    recomputed = check_outpatient(parse(buffer.getvalue()))
    assert recomputed["cases"] == totals.cases == 400
    assert recomputed["claimed"] == totals.points and recomputed["copay"] == totals.copay
    assert totals.bytes == len(buffer.getvalue())


def test_generated_cases_cover_what_the_checker_must_handle():
    """Both 案件分類 pairs, exempt copay, drugs, 藥事服務費 and a cp950-only name all occur."""
    data = claims_bytes(seed=1)
    root = parse(data)
    bodies = [fields(c.find("dbody")) for c in root.iter("ddata")]
    assert {fields(c.find("dhead"))["d1"] for c in root.iter("ddata")} == {"01", "04"}
    assert any(b["d15"] in EXEMPT for b in bodies) and any(b["d15"] == "D12" for b in bodies)
    assert any("d38" in b for b in bodies) and any("d32" in b for b in bodies)
    assert any(set(b["d49"]) & set("碁恒") for b in bodies)
    assert 1000 <= len(bodies) <= 3500  # one clinic month (FORMATS §5.2)


def test_same_seed_same_bytes_and_another_seed_other_bytes():
    """Determinism: claims and IC files repeat exactly for a seed and change with it."""
    assert claims_bytes(cases=50, seed=7) == claims_bytes(cases=50, seed=7)
    assert claims_bytes(cases=50, seed=7) != claims_bytes(cases=50, seed=8)
    day = date(2024, 7, 2)
    assert ic_bytes(day=day, records=40, seed=2) == ic_bytes(day=day, records=40, seed=2)
    assert ic_bytes(day=day, records=40, seed=2) != ic_bytes(day=day, records=40, seed=3)


def test_target_size_is_met_within_ten_percent():
    """target_bytes gives a claims file and an IC file within ±10 % of the asked size."""
    for target in (300_000, 3_000_000):
        size = len(claims_bytes(target_bytes=target))
        assert abs(size - target) <= target * 0.10, (target, size)
    size = len(ic_bytes(version="2.0", day=date(2024, 7, 2), target_bytes=500_000))
    assert abs(size - 500_000) <= 50_000, size


def test_claims_zip_holds_exactly_one_deflated_xml(tmp_path):
    """claims_zip: one TOTFA.xml entry, deflated, whose XML passes the checks above."""
    path = tmp_path / "upload.zip"
    totals = samples.claims_zip(path, cases=30)
    with zipfile.ZipFile(path) as archive:
        (info,) = archive.infolist()
        assert info.filename == "TOTFA.xml" and info.compress_type == zipfile.ZIP_DEFLATED
        assert check_outpatient(parse(archive.read(info)))["claimed"] == totals.points


def test_an_inpatient_file_adds_up():
    """住院 (§2.3b): p18, d65, d83 = Σ d66…d82, d85 = d83 − d84, t28 and t30."""
    root = parse(claims_bytes(kind="ip", cases=12))
    assert root.tag == "inpatient"
    assert_ascending(root)
    t = fields(root.find("tdata"))
    claimed = 0
    for case in root.iter("ddata"):
        body = case.find("dbody")
        d = fields(body)
        orders = [fields(p) for p in body.iter("pdata")]
        assert int(d["d65"]) == len(orders)
        for p in orders:
            assert int(p["p18"]) == half_up(Decimal(p["p16"]) * Decimal(p["p17"]) * Decimal(p["p4"]) / 100)
        assert [int(p["p1"]) for p in orders] == list(range(1, len(orders) + 1))
        assert int(d["d83"]) == sum(int(d.get(f"d{n}", "0")) for n in range(66, 83))
        assert int(d["d83"]) == sum(int(p["p18"]) for p in orders)
        assert int(d["d85"]) == int(d["d83"]) - int(d["d84"])
        assert roc(d["d10"]) <= roc(d["d11"]) and d["d11"][:5] == t["t3"]
        claimed += int(d["d85"])
    assert int(t["t28"]) == 12 and int(t["t30"]) == claimed


# --- IC ---------------------------------------------------------------------------------------------


def test_ic_10_records_are_consistent():
    """1.0: A71 = A17, anomaly records carry an anomaly code and no A11/A16/A22/A79, dates in range."""
    day = date(2024, 7, 2)  # a Tuesday
    root = parse(ic_bytes(version="1.0", day=day, records=400, institution="3501200000"))
    assert root.tag == "RECS"
    now = datetime(2024, 7, 2, 23, 59, 59)
    anomalies = 0
    for rec in root.iter("REC"):
        msh, mb1 = fields(rec.find("MSH")), rec.find("MB/MB1")
        a = fields(mb1)
        assert (msh["A00"], msh["A02"]) == ("1", "1.0")
        assert a["A14"] == "3501200000" and tw_id_ok(a["A12"]) and tw_id_ok(a["A15"])
        visit = datetime.strptime(str(int(a["A17"][:3]) + 1911) + a["A17"][3:], "%Y%m%d%H%M%S")
        assert now - timedelta(days=90) <= visit <= now and visit.date() == day
        assert roc(a["A13"]) <= visit.date()
        assert int(a["A31"]) > 0 and "A32" in a and a["A23"] == "01" and a["A25"]
        mb2s = [fields(m) for m in rec.iter("MB2")]
        if msh["A01"] == "2":
            anomalies += 1
            assert a["A18"] in ANOMALY
            assert not {"A11", "A16", "A22"} & set(a) and all("A79" not in m for m in mb2s)
        else:
            assert msh["A01"] == "1" and re.fullmatch(r"0\d{3}|1[0-4]\d{2}|1500", a["A18"]) and a["A18"] != "0000"
            assert len(a["A11"]) == 12 and len(a["A16"]) == 12 and len(a["A22"]) == 128
            assert all(len(m["A79"]) == 40 for m in mb2s)
        for m in mb2s:
            assert m["A71"] == a["A17"]
            if m["A72"] == "1":
                assert m["A78"] in ("01", "02") and 1 <= int(m["A76"]) <= 92 and m["A75"]
            else:
                assert m["A78"] in ("03", "04")
    assert anomalies >= 3


def test_ic_20_records_are_consistent():
    """2.0: D01 = M11, D03 runs 001…, anomaly records (H01 = B) carry no M01/M02/M14/M15/D11."""
    root = parse(ic_bytes(version="2.0", day=date(2024, 7, 2), records=400))
    anomalies = 0
    for rec in root.iter("REC"):
        msh, m = fields(rec.find("MSH")), fields(rec.find("MB/MB1"))
        mb2s = [fields(x) for x in rec.iter("MB2")]
        assert msh["H00"] == "1" and m["M05"] == samples.DEFAULT_INSTITUTION
        assert [x["D03"] for x in mb2s] == [f"{n:03d}" for n in range(1, len(mb2s) + 1)]
        for x in mb2s:
            assert x["D01"] == m["M11"] and re.fullmatch(r"\d{5}\.\d", x["D10"])
            if x["D02"] == "1":
                assert re.fullmatch(r"\d{2}", x["D09"]) and x["D04"] == "A"
        if msh["H01"] == "B":
            anomalies += 1
            assert m["M13"] in ANOMALY
            assert not {"M01", "M02", "M14", "M15"} & set(m) and all("D11" not in x for x in mb2s)
        else:
            assert msh["H01"] == "A" and len(m["M15"]) == 20 and all(len(x["D11"]) == 40 for x in mb2s)
    assert anomalies >= 3


def test_default_ic_day_is_yesterday_and_not_in_the_future():
    """Without a day the visits are yesterday's (Taipei), so BD/BH cannot fire on a fresh file."""
    root = parse(ic_bytes(records=20))
    yesterday = samples.taipei_today() - timedelta(days=1)
    assert {fields(r.find("MB/MB1"))["A17"][:7] for r in root.iter("REC")} == {samples.roc_date(yesterday)}


def test_ic_examples_are_dated_yesterday():
    """valid_ic_example: the §4.2 REC with the visit yesterday at 09:30:15, A16/A22/A79 kept."""
    today = date(2025, 3, 1)
    one = parse(samples.valid_ic_example("1.0", today=today))
    a = fields(one.find("REC/MB/MB1"))
    assert a["A17"] == "1140228093015" and a["A16"] == "100000000123" and len(a["A22"]) == 128
    assert [fields(m)["A71"] for m in one.iter("MB2")] == ["1140228093015"] * 3
    two = parse(samples.valid_ic_example("2.0", today=today))
    assert fields(two.find("REC/MB/MB1"))["M11"] == "1140228093015"


# --- the seeded-error catalogue -------------------------------------------------------------------


def test_catalogue_has_every_row_of_the_table():
    """C1–C27 and I1–I29, each with codes to expect and at least one file to upload."""
    wanted = [f"C{n}" for n in range(1, 28)] + [f"I{n}" for n in range(1, 30)]
    assert list(samples.MUTATIONS) == wanted
    for mutation in samples.MUTATIONS.values():
        assert mutation.expected and all(mutation.expected) and mutation.description
        assert mutation.kind in ("claims", "ic10", "ic20")
    assert samples.MUTATIONS["C8"].alternatives == ("R206",)
    assert samples.MUTATIONS["C23"].expected == ("R505", "R424")
    assert samples.MUTATIONS["C17"].form == {"fee_month": "11308"}
    assert samples.MUTATIONS["I8"].expected == ("AD02", "AF")


def _claims_xml(files: list[tuple[str, bytes]]) -> bytes:
    """The XML inside a mutation's single ZIP."""
    ((_name, data),) = files
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(archive.namelist()[0])


def test_claims_mutations_change_what_the_table_says():
    """A few claims mutations, checked on the bytes a user would upload."""
    example = samples.valid_claims_example()
    built = {mid: m.build() for mid, m in samples.MUTATIONS.items() if m.kind == "claims"}
    assert built["C1"] == [("TOTFA.xml", example)]
    with zipfile.ZipFile(io.BytesIO(built["C2"][0][1])) as archive:
        assert archive.namelist() == ["TOTFA.xml", "readme.txt"]
    with zipfile.ZipFile(io.BytesIO(built["C3"][0][1])) as archive:
        assert archive.namelist() == ["../TOTFA.xml"]
    bomb = built["C4"][0][1]
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        (info,) = archive.infolist()
        assert info.file_size / len(bomb) > 200 and info.file_size < 2**31
    for mid in ("C5", "C6"):
        with pytest.raises(UnicodeDecodeError):
            _claims_xml(built[mid]).decode("cp950")
    assert "王小明" in _claims_xml(built["C5"]).decode("utf-8")
    assert b"\x80\x80" in _claims_xml(built["C6"])
    assert _claims_xml(built["C17"]) == example
    root = parse(_claims_xml(built["C26"]))  # the totals were fixed with it: only the warning remains
    assert fields(root.find("tdata"))["t38"] == "1172"
    for mid in ("C13", "C19", "C23", "C24", "C25"):
        changed = _claims_xml(built[mid])
        assert changed != example
        parse(changed)
    assert b"<t4>22</t4>" in _claims_xml(built["C13"])


def test_ic_mutations_build_with_dates_relative_to_today():
    """IC mutations: dates follow `today`; I24 gives the same file twice; I27 has 501 MB2."""
    today = date(2025, 3, 1)
    for mid, mutation in samples.MUTATIONS.items():
        if mutation.kind == "claims":
            continue
        files = mutation.build(today=today)
        assert files and all(name.endswith(".xml") for name, _ in files), mid
        for _name, data in files:
            text = data.decode("cp950")
            assert text.startswith('<?xml version="1.0" encoding="Big5"?>'), mid
            if mid not in ("I1", "I5"):
                ET.fromstring(text.split("?>", 1)[1])
    first, second = samples.MUTATIONS["I24"].build(today=today)
    assert first[1] == second[1] and first[0] != second[0]
    assert b"<A17>1131101093015</A17>" in samples.MUTATIONS["I26"].build(today=today)[0][1]
    assert samples.MUTATIONS["I27"].build(today=today)[0][1].count(b"<MB2>") == 501
    i23 = fields(parse(samples.MUTATIONS["I23"].build(today=today)[0][1]).find("REC/MB/MB1"))
    assert "A16" in i23 and "A11" not in i23 and "A22" not in i23


# --- command line -----------------------------------------------------------------------------------


def test_cli_writes_files_and_prints_the_catalogue(tmp_path, capsys):
    """samples claims / ic / mutation / catalogue write what they say and report counts."""
    assert samples.main(["claims", "--cases", "25", "--out", str(tmp_path / "c.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "c.zip") as archive:
        assert archive.namelist() == ["TOTFA.xml"]
    assert samples.main(["claims", "--size", "200KB", "--out", str(tmp_path / "c.xml")]) == 0
    assert abs((tmp_path / "c.xml").stat().st_size - 200 * 1024) <= 20 * 1024
    assert samples.main(["ic", "--version", "2.0", "--records", "12", "--day", "2024-07-02",
                         "--out", str(tmp_path / "ic.xml")]) == 0
    assert len(parse((tmp_path / "ic.xml").read_bytes()).findall("REC")) == 12
    assert samples.main(["mutation", "C13", "--out", str(tmp_path / "m")]) == 0
    assert len(list((tmp_path / "m").iterdir())) == 1
    out = capsys.readouterr().out
    assert "25 件" in out and "R209" in out
    assert samples.main(["catalogue"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 56 and lines[0].startswith("C1 ")
