"""The checkers' reference tables (portal/data/checks) hold what FORMATS and the seeds say, in a shape the engine can use."""

import re
import string
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal

import pytest

from portal.checks import samples, tables

TABLE_KEYS = {
    "claims_op_fields": "tag", "claims_ip_fields": "tag", "ic10_fields": "tag", "ic20_fields": "tag",
    "case_types": "code", "medical_categories": "code", "departments": "code", "payment_categories": "code",
    "copay_codes": "code", "order_types_claims": "code", "order_types_ic": "code", "visit_categories": "code",
    "anomaly_codes": "code", "dispense_marks": "code", "preventive_items": "service", "body_sites": "code",
    "ic_error_codes": "code", "claims_error_codes": "code", "frequencies": "code", "routes": "code",
    "demo_masters/drugs": "code", "demo_masters/fees": "code", "demo_masters/materials": "code",
}

# FORMATS §4.2, the valid 門診 claim (three cases), as the user would upload it.
VALID_CLAIM = samples.valid_claims_example().decode("cp950").split("?>", 1)[1]

# FORMATS §4.2, the same visit as IC 1.0 and 2.0 records (signatures shortened: only their length matters here).
VALID_IC10 = """<REC><MSH><A00>1</A00><A01>1</A01><A02>1.0</A02></MSH><MB>
<MB1><A11>001234567890</A11><A12>A123456789</A12><A13>0680315</A13><A14>3501200000</A14><A15>E120000001</A15><A16>100000000123</A16><A17>1130702093015</A17><A18>0012</A18><A19>1</A19><A22>SIG</A22><A23>01</A23><A25>J069</A25><A31>406</A31><A32>50</A32></MB1>
<MB2><A71>1130702093015</A71><A72>1</A72><A73>AC37603100</A73><A75>TID PO</A75><A76>3</A76><A77>9.0</A77><A78>01</A78><A79>SIG</A79></MB2>
</MB></REC>"""
VALID_IC20 = """<REC><MSH><H00>1</H00><H01>A</H01></MSH><MB>
<MB1><M01>100000000123</M01><M02>001234567890</M02><M03>A123456789</M03><M04>0680315</M04><M05>3501200000</M05><M06>E120000001</M06><M07>01</M07><M11>1130702093015</M11><M12>1</M12><M13>0012</M13><M14>SIG</M14><M15>P1S3CYRW0NXLD7M2J2KD</M15><M20>3</M20><M23>0</M23><M24>1</M24><M35>J069</M35><M44>406</M44><M45>50</M45><M51>4</M51><M53>50</M53><M56>11</M56></MB1>
<MB2><D01>1130702093015</D01><D02>1</D02><D03>001</D03><D04>A</D04><D05>0</D05><D06>AC37603100</D06><D08>TID</D08><D09>03</D09><D10>00009.0</D10><D11>SIG</D11><D14>PO</D14></MB2>
</MB></REC>"""


def leaves(xml: str) -> list[tuple[str, str, str]]:
    """(parent tag, tag, text) for every element that holds a value."""
    found = []

    def walk(node: ET.Element) -> None:
        for child in node:
            if len(child):
                walk(child)
            else:
                found.append((node.tag, child.tag, child.text or ""))

    walk(ET.fromstring(xml))
    return found


def fits(spec: dict[str, str], value: str) -> bool:
    """Whether a value obeys its field row: type, decimals, Big5 length, fixed length, sign."""
    if spec["type"] == "9":
        signed = spec.get("signed") == "1"
        if not re.fullmatch(r"-?\d+(\.\d+)?" if signed else r"\d+(\.\d+)?", value):
            return False
        if "." in value and len(value.split(".")[1]) > int(spec["decimals"] or 0):
            return False
    if not spec["length"]:
        return True
    size = len(value.encode("cp950"))
    return size == int(spec["length"]) if spec["fixed"] == "1" else size <= int(spec["length"])


@pytest.mark.parametrize("name, key", TABLE_KEYS.items())
def test_every_table_loads_with_a_unique_key_and_no_blank_keys(name, key):
    index = tables.by_code(name, key)
    assert index, name
    assert len(index) == len(tables.rows(name))
    if name != "preventive_items":  # its one blank service is "A41 left empty"
        assert "" not in index


def test_provenance_comments_are_skipped_and_cells_are_stripped():
    first = tables.rows("case_types")[0]
    assert list(first) == ["code", "name", "group", "medical_categories"]
    assert first == {"code": "01", "name": "西醫一般案件", "group": "西醫", "medical_categories": "11 12"}
    assert (tables.data_dir() / "case_types.csv").read_text(encoding="utf-8").startswith("#")


def test_rows_hands_out_copies_so_a_caller_cannot_corrupt_the_table():
    tables.rows("routes")[0]["name"] = "changed"
    assert tables.rows("routes")[0]["name"] != "changed"
    assert tables.codes("routes") is tables.codes("routes")


def test_every_claims_r_code_of_formats_has_a_row_with_known_placeholders():
    expected = {f"R{stage}{n:02d}" for stage, last in [(1, 5), (2, 13), (3, 7), (4, 35), (5, 10), (6, 6)]
                for n in range(1, last + 1)}
    rows = tables.by_code("claims_error_codes")
    # plus our R214: a Big5 造字 in 姓名 is a warning, not a refusal (FORMATS §4.4 item 17)
    assert set(rows) == expected | {"R214"}
    allowed = {"tag", "a", "b", "d1", "d2", "x", "list", "code", "version", "limit", "parent", "fmt", "master", "d15"}
    for code, row in rows.items():
        names = {field for _, field, _, _ in string.Formatter().parse(row["message"]) if field is not None}
        assert names <= allowed | ({"how"} if code == "R209" else set()), code
        assert "第[" not in row["message"], code  # the engine adds the 第[n]列 prefix


def test_claims_severities_follow_the_stages():
    rows = tables.by_code("claims_error_codes")
    warnings = {"R213", "R214", "R404", "R406", "R414", "R419", "R434", "R510", "R603", "R604", "R606"}
    for code, row in rows.items():
        if code in warnings:
            assert row["severity"] == "warn", code
        elif code[1] in "123":
            assert row["severity"] == "reject_file", code
        else:
            assert row["severity"] == "error", code


def test_r209_reads_as_nhia_wrote_it_for_both_length_errors():
    message = tables.by_code("claims_error_codes")["R209"]["message"]
    assert message.format(tag="t4", how="不等於") == "資料長度錯誤：標籤:'t4' 實際長度不等於所指定的長度。"
    assert message.format(tag="d49", how="超過").endswith("實際長度超過所指定的長度。")
    r208 = tables.by_code("claims_error_codes")["R208"]["message"]
    assert r208.format(parent="dhead", tag="d32") == "位置區域錯誤：項目 dhead 含有無效的子項目 d32"


def test_the_valid_claim_example_fits_every_field_it_uses():
    fields = tables.by_code("claims_op_fields", "tag")
    for parent, tag, value in leaves(VALID_CLAIM):
        spec = fields[tag]
        assert spec["section"] == parent, tag
        assert fits(spec, value), (tag, value)


def test_the_valid_claim_example_has_every_required_field():
    fields = tables.rows("claims_op_fields")
    required = {row["tag"] for row in fields if row["required"] == "*"}
    tree = ET.fromstring(VALID_CLAIM)
    present = {child.tag for child in tree.find("tdata")}
    for case in tree.iter("ddata"):
        present_case = present | {e.tag for e in case.iter()}
        missing = {tag for tag in required if tag[0] != "p"} - present_case
        assert not missing, missing
        for order in case.iter("pdata"):
            assert not {tag for tag in required if tag[0] == "p"} - {e.tag for e in order}
    assert "d19" not in required  # R415 per case, not R212


def test_claims_field_lists_cover_formats_tag_ranges():
    op = tables.codes("claims_op_fields", "tag")
    assert op == ({f"t{i}" for i in range(1, 43)} | {f"d{i}" for i in range(1, 60)} - {"d46", "d47"}
                  | {f"p{i}" for i in range(1, 26)})
    ip = tables.by_code("claims_ip_fields", "tag")
    assert {f"t{i}" for i in range(1, 34)} | {f"p{i}" for i in range(1, 28)} <= set(ip)
    assert {"d1", "d25", "d45", "d65", "d83", "d85", "d112"} <= set(ip)
    assert ip["p2"]["name"] == "醫令類別" and ip["p18"]["name"] == "點數"  # 住院 numbering differs from 門診


def test_fixed_length_claims_fields_reject_a_wrong_length():
    fields = tables.by_code("claims_op_fields", "tag")
    assert not fits(fields["t4"], "22")          # FORMATS §4.3 C13 → R209 不等於
    assert not fits(fields["d39"], "4O6")        # C14 → R210
    assert not fits(fields["p10"], "9.05")       # one decimal only
    assert not fits(fields["d40"], "-50")        # claims numbers are never signed
    assert fits(fields["d49"], "王小明") and not fits(fields["d49"], "王" * 11)  # X(20) in Big5 bytes


@pytest.mark.parametrize("table, xml", [("ic10_fields", VALID_IC10), ("ic20_fields", VALID_IC20)])
def test_the_valid_ic_examples_fit_their_field_tables(table, xml):
    fields = tables.by_code(table, "tag")
    for parent, tag, value in leaves(xml):
        assert fields[tag]["section"] == parent, tag
        assert fits(fields[tag], value), (tag, value)


def test_ic_money_fields_are_signed_and_ids_fixed():
    v1, v2 = tables.by_code("ic10_fields", "tag"), tables.by_code("ic20_fields", "tag")
    assert {t for t, r in v1.items() if r["signed"] == "1"} == {f"A3{i}" for i in range(1, 6)}
    assert {t for t, r in v2.items() if r["signed"] == "1"} == {"M44", "M45", "M46", "M47", "M48", "M53", "M54", "M55"}
    assert fits(v1["A31"], "-50")
    assert {"A12", "A14", "A15", "A18", "A13", "A17", "A71"} <= {t for t, r in v1.items() if r["fixed"] == "1"}
    assert not fits(v1["A14"], "350120000")
    assert {r["section"] for t, r in v2.items() if t[0] in "EV"} == {"MB2"}
    assert {f"E{i:02d}" for i in range(1, 14)} | {"V01", "V02", "H00", "H01"} <= set(v2)


def test_anomaly_table_holds_every_code_of_the_seed_list():
    seed = {"A000", "A001", "A010", "A011", "A020", "A021", "A030", "A031", "B000", "B001", "C001", "C000",
            "D000", "D001", "D010", "D011", "E000", "E001", "F000", "F00B", "Z000", "Z001", "G000", "IC98",
            "IC09", "CV19", "FORE", "TM01", "J000", "HVIT", "MSPT", "ICND", "ICC4"}
    rows = tables.by_code("anomaly_codes")
    assert seed <= set(rows)
    assert rows["A000"]["obtained"] == "0" and rows["A001"]["obtained"] == "1"
    assert rows["HVIT"]["valid_from"] == "2022-05-01" and rows["HVIT"]["valid_to"] == "2023-12-31"
    assert rows["ICC4"]["valid_from"] == "2023-06-01"
    assert {code for code, row in rows.items() if row["versions"] == "1.0"} == {"C002", "C003", "H000", "IC89"}
    for row in rows.values():
        assert all(re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", row[column]) for column in ("valid_from", "valid_to"))


def test_icd_lists_hold_the_formats_examples_without_dots():
    cm, pcs = tables.icd_codes("cm"), tables.icd_codes("pcs")
    assert {"J069", "E119", "I10", "S90221A", "D2361", "Z4800", "S6702XA"} <= cm
    assert "0HBDXZZ" in pcs
    assert "J06.9" not in cm and "J06" not in cm  # dotted form, and a non-billable category
    assert len(cm) > 70_000 and len(pcs) > 70_000
    assert all(re.fullmatch(r"[0-9A-HJ-NP-Z]{7}", code) for code in pcs)
    assert tables.icd_codes("cm") is cm
    with pytest.raises(ValueError):
        tables.icd_codes("icd9")


def test_ic_error_codes_cover_the_seeded_error_catalogue():
    catalogue = {"Y007", "Y005", "07", "Y015", "Y008", "AD01", "AD02", "AF", "AD13", "AD14", "AD10", "AH",
                 "AA01", "AG", "BD", "BG", "BB", "BE", "AH01", "AD03", "AD04", "AB", "AA", "C001", "Y009",
                 "BH", "D028", "Y012"}
    rows = tables.by_code("ic_error_codes")
    assert catalogue <= set(rows)
    named = {"Y000", "Y001", "Y002", "Y003", "Y004", "Y006", "Y010", "Y011", "Y013", "Y014", "Y016", "AC",
             "AD", "AE", "AE01", "AD19", "BA", "BC", "BF", "BI", "C002", "D047", "D058"}
    assert named <= set(rows)
    assert {f"{i:02d}" for i in range(1, 17)} | {"19", "20", "22", "23"} <= set(rows)
    assert rows["D028"]["message"] == "同一XML且同一筆就醫紀錄內之醫令序號不得重複。"
    assert rows["Y007"]["message"] == "未有</RECS>"
    assert rows["AD01"]["message_1_0"] == "就醫類別(A23)為01~08，就醫序號(A18)需為0001~1500"


def test_ic_error_severities_match_formats():
    rows = tables.by_code("ic_error_codes")
    by_severity = {}
    for code, row in rows.items():
        by_severity.setdefault(row["severity"], set()).add(code)
    assert by_severity["reject_file"] == {"Y000", "Y001", "Y002", "Y003", "Y005", "Y006", "Y007", "Y014", "Y015", "07"}
    assert by_severity["warn"] == {"AD34", "AD47", "D024", "D049", "D050", "D051", "04", "16"}
    assert set(by_severity) == {"reject_file", "warn", "reject_record"}
    assert all(row["versions"] in ("1.0", "2.0", "1.0 2.0") for row in rows.values())


def test_demo_masters_price_the_example_orders_to_their_points():
    drugs, fees = tables.by_code("demo_masters/drugs"), tables.by_code("demo_masters/fees")
    for _parent, tag, value in leaves(VALID_CLAIM):
        if tag == "p4":
            assert value in drugs or value in fees, value
    tree = ET.fromstring(VALID_CLAIM)
    for order in tree.iter("pdata"):
        code = order.findtext("p4")
        price = drugs[code]["unit_price"] if code in drugs else fees[code]["points"]
        assert Decimal(price) == Decimal(order.findtext("p11")), code
        points = Decimal(order.findtext("p10")) * Decimal(price) * Decimal(order.findtext("p8")) / 100
        assert int(points.quantize(Decimal(1), rounding=ROUND_HALF_UP)) == int(order.findtext("p12")), code


def test_demo_master_codes_have_the_formats_shapes():
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]\d{8}", c) for c in tables.codes("demo_masters/drugs"))
    assert all(re.fullmatch(r"[0-9A-Z]\d{4}[A-Z]", c) for c in tables.codes("demo_masters/fees"))
    assert all(len(c) == 12 for c in tables.codes("demo_masters/materials"))
    assert len(tables.rows("demo_masters/drugs")) >= 24 and len(tables.rows("demo_masters/fees")) >= 24


def test_case_types_name_only_known_medical_categories():
    categories = tables.by_code("medical_categories")
    assert {c for c, r in categories.items() if r["kind"] == "ip"} == {"21", "22"}
    for code, row in tables.by_code("case_types").items():
        assert row["medical_categories"], code
        assert set(row["medical_categories"].split()) <= set(categories), code
    case = tables.by_code("case_types")
    assert "11" in case["01"]["medical_categories"].split() and "13" not in case["01"]["medical_categories"].split()
    assert case["05"]["medical_categories"].split() == ["11", "12", "15"]


def test_copay_exemptions_and_order_type_subtotals():
    copay = tables.by_code("copay_codes")
    exempt = {c for c, r in copay.items() if r["exempt"] == "1"}
    assert exempt == {f"00{i}" for i in range(1, 10)} | {"801", "802"} | {str(i) for i in range(901, 918)}
    assert {"D00", "D12", "A12", "K20", "I22"} <= set(copay) - exempt
    order = tables.by_code("order_types_claims")
    assert {c: r["subtotal"] for c, r in order.items() if r["subtotal"]} == {
        "0": "d36", "1": "d32", "2": "d33", "3": "d34", "5": "d33", "6": "d33", "7": "d33", "9": "d38"}
    assert order["1"]["shape"] == "drug" and order["3"]["shape"] == "material" and order["G"]["shape"] == "virtual"


def test_visit_categories_mark_the_cumulative_ones_per_version():
    rows = tables.by_code("visit_categories")

    def cumulative(version):
        return {c for c, r in rows.items() if r["cumulative"] == "1" and version in r["versions"].split()}

    assert cumulative("1.0") == {f"0{i}" for i in range(1, 9)}
    assert cumulative("2.0") == {f"0{i}" for i in range(1, 10)}
    assert rows["09"]["valid_from"] == "2022-01-01"


def test_ic_code_tables_pair_up_as_formats_says():
    marks = tables.by_code("dispense_marks")
    assert marks["01"]["order_types"].split() == ["1", "A"] and "C" in marks["04"]["order_types"].split()
    items = tables.by_code("preventive_items", "service")
    assert items["01"]["items"].split()[:9] == [str(i) for i in range(11, 20)]
    assert items["04"]["items"] == "" and items[""]["items"] == "20" and items["YF"]["cancels"] == "04"
    assert "8P" in items["05"]["items"].split()
    sites = tables.by_code("body_sites")
    assert sites["A"]["kind"] == "body" and sites["55"]["kind"] == "tooth" and "56" not in sites
    assert {"1", "2", "G", "M"} <= tables.codes("order_types_ic")


def test_frequency_and_route_lists_know_the_example_codes():
    frequencies = tables.codes("frequencies")
    assert {"QD", "BID", "TID", "QID", "HS", "PRN", "STAT", "ASORDER", "QOD", "Q8H", "Q12H", "QW(1,3,5)"} <= frequencies
    assert len(frequencies) >= 590
    assert {"PO", "IV", "IM", "SC", "EXT", "INHL", "SL"} <= tables.codes("routes")
