"""The upload checkers against FORMATS §4.2's valid examples and every seeded error of §4.3."""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import date, datetime, timedelta

import pytest

from portal.checks import samples
from portal.checks.archive import Limits
from portal.checks.claims import ClaimsForm, check_claims
from portal.checks.ic import IcForm, RecKey, check_ic
from portal.checks.outcome import Spool
from portal.checks.report import ReportMeta, claims_text, findings_csv, ic_text

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0)
LIMITS = Limits(max_uncompressed=64 * 2**20, max_ratio=200)


def claims_form(**changes) -> ClaimsForm:
    """The §4.2 example's upload form, as 臺北虛擬診所 on TODAY."""
    values = {"kind": "op", "institution": "3501200000", "fee_month": "11307", "medical_category": "11",
              "today": TODAY}
    values.update(changes)
    return ClaimsForm(**values)


def zipped(xml: bytes, name: str = "TOTFA.xml") -> io.BytesIO:
    """A ZIP holding one entry, as an open file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, xml)
    buffer.seek(0)
    return buffer


def run(mutation: samples.Mutation, history=None):
    """Check every file a mutation builds (in order, later ones seeing earlier ones' keys); the last outcome."""
    stored: dict = {}

    def remembered(keys):
        return {k: stored[k] for k in keys if k in stored}

    outcome = None
    for _name, data in mutation.build(today=TODAY):
        form = mutation.upload_form()
        if mutation.kind == "claims":
            fields = {"fee_month": form["fee_month"], "medical_category": form["medical_category"],
                      "institution": form["institution"], "kind": form.get("kind", "op")}
            outcome = check_claims(io.BytesIO(data), claims_form(**fields), LIMITS)
        else:
            outcome = check_ic(io.BytesIO(data), IcForm(form["institution"], NOW), LIMITS, history or remembered)
            for pid, visit, category, fmt, valid, *_facts in outcome.keys:
                stored.setdefault(RecKey(pid, visit, category), []).append((fmt, valid))
    return outcome


def test_the_valid_claims_example_is_correct_with_its_totals():
    outcome = check_claims(zipped(samples.valid_claims_example()), claims_form(), LIMITS)
    assert outcome.ok and outcome.listed == []
    assert (outcome.records, outcome.orders, outcome.declared_records, outcome.declared_points) == (3, 9, 3, 1222)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_the_valid_ic_examples_are_accepted(version):
    outcome = check_ic(io.BytesIO(samples.valid_ic_example(version, today=TODAY)), IcForm("3501200000", NOW), LIMITS)
    assert outcome.ok and outcome.version == version and outcome.listed == []
    assert (outcome.records, outcome.valid_records, outcome.orders, outcome.valid_orders) == (1, 1, 3, 3)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_each_rec_keeps_what_the_indicators_compare(version):
    outcome = check_ic(io.BytesIO(samples.valid_ic_example(version, today=TODAY)), IcForm("3501200000", NOW), LIMITS)
    (pid, visit, category, fmt, valid, doctor, diagnosis, fee, copay, codes), = outcome.keys
    assert (pid, category, fmt, valid) == ("A123456789", "01", "1" if version == "1.0" else "A", True)
    assert visit == samples.roc_date(TODAY - timedelta(days=1)) + "093015"
    assert (doctor, diagnosis, fee, copay, codes) == ("E120000001", "J069", "406", "50",
                                                      "AC37603100 A013382100 A037807100")


def test_each_outpatient_case_is_handed_on_with_what_the_indicators_compare():
    cases = []
    outcome = check_claims(zipped(samples.valid_claims_example()), claims_form(), LIMITS, facts=cases.append)
    assert outcome.ok
    assert cases == [
        ("A123456789", "1130702", "01", "E120000001", "J069", 406, 50, "AC37603100 A013382100 A037807100", "0012"),
        ("K109876546", "1130705", "01", "E120000001", "J069", 373, 0, "AC37603100", "0003"),
        ("F131104093", "1130715", "04", "E120000001", "I10", 563, 70, "AB57740100 AC25866100", "0013"),
    ]  # the 診察費 lines (p3 0) are not compared


@pytest.mark.parametrize("mutation_id", sorted(samples.MUTATIONS, key=lambda m: (m[0], int(m[1:]))))
def test_every_seeded_error_is_reported_with_its_code(mutation_id):
    mutation = samples.MUTATIONS[mutation_id]
    outcome = run(mutation)
    codes = set(outcome.codes)
    wanted = set(mutation.expected)
    if mutation.alternatives and not wanted <= codes:
        wanted = (wanted - {mutation.expected[0]}) | {next(a for a in mutation.alternatives if a in codes)}
    assert wanted <= codes, (mutation.description, outcome.listed)
    unexpected = codes - wanted - set(mutation.tolerated)
    assert not unexpected, (mutation.description, [f for f in outcome.listed if f.code in unexpected])
    assert (outcome.rejected is not None) == mutation.whole_file
    if mutation.kind == "claims":
        assert outcome.ok == mutation.warning_only


def test_a_warning_alone_keeps_the_claim_correct():
    outcome = run(samples.MUTATIONS["C26"])
    assert outcome.ok and outcome.warnings == 1 and outcome.codes["R414"] == 1


def test_xml_stage_messages_name_the_line_and_character():
    outcome = run(samples.MUTATIONS["C13"])
    assert outcome.rejected.message.startswith("第[") and "；第[" in outcome.rejected.message
    assert outcome.rejected.message.endswith("資料長度錯誤：標籤:'t4' 實際長度不等於所指定的長度。")


def test_undecodable_bytes_are_located_on_their_line():
    xml = samples.valid_claims_example()
    line = xml[:xml.index(b"\xa4\xfd")].count(b"\n") + 1  # 王 of 王小明
    broken = xml.replace("王小明".encode("cp950"), b"\x80\x80" + "小明".encode("cp950"), 1)
    outcome = check_claims(zipped(broken), claims_form(), LIMITS)
    assert outcome.rejected.code == "R201"
    assert outcome.rejected.message.startswith(f"第[{line}]列；第[")


def test_a_value_with_a_line_break_before_its_closing_tag_reads_as_the_value():
    # Pretty-printing HIS exports break lines inside tags; the value is what stands between the breaks.
    xml = samples.valid_claims_example()
    for written in (b"<d8>01\n</d8>", b"<d8>01 </d8>", b"<d8>\n  01\n</d8>"):
        broken = xml.replace(b"<d8>01</d8>", written, 1)
        assert broken != xml
        outcome = check_claims(zipped(broken), claims_form(), LIMITS)
        assert outcome.ok and not outcome.listed, (written, outcome.listed)
    unknown = check_claims(zipped(xml.replace(b"<d8>01</d8>", b"<d8>0Z\n</d8>", 1)), claims_form(), LIMITS)
    assert [f.code for f in unknown.listed] == ["R411"]  # the value itself is still judged


def test_big5_user_defined_characters_warn_in_names_and_refuse_elsewhere():
    xml = samples.valid_claims_example()
    in_name = xml.replace("王小明".encode("cp950"), b"\xfa\x40" + "小明".encode("cp950"), 1)
    outcome = check_claims(zipped(in_name), claims_form(), LIMITS)
    assert outcome.ok and outcome.codes["R214"] == 1
    elsewhere = xml.replace(b"<d19>J069</d19>", b"<d19>J\xfa\x409</d19>", 1)
    assert check_claims(zipped(elsewhere), claims_form(), LIMITS).rejected.code == "R201"


@pytest.mark.parametrize(("xml", "code"), [
    (b'<?xml version="1.0" encoding="Big5"?><!DOCTYPE lol [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     b"<outpatient>&b;</outpatient>", "R205"),
    (b'<?xml version="1.0" encoding="Big5"?>' + b"<outpatient>" + b"<tdata>" * 40 + b"</tdata>" * 40
     + b"</outpatient>", "R208"),
    (b'<?xml version="1.0" encoding="UTF-8"?><outpatient/>', "R202"),
    (b"", "R202"),
])
def test_hostile_xml_is_refused_before_it_costs_anything(xml, code):
    assert check_claims(zipped(xml), claims_form(), LIMITS).rejected.code == code


def test_archive_tricks_are_refused():
    def archive(*entries, symlink=False, encrypt_flag=False):
        buffer = io.BytesIO()
        with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zf:
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we mean to write
            for name, data in entries:
                info = zipfile.ZipInfo(name)
                if symlink:
                    info.external_attr = (0o120777 << 16)
                zf.writestr(info, data)
        data = bytearray(buffer.getvalue())
        if encrypt_flag:
            data[6] |= 1  # general purpose flag bit 0 of the local header
            central = data.rfind(b"PK\x01\x02")
            data[central + 8] |= 1
        return io.BytesIO(bytes(data))

    xml = samples.valid_claims_example()
    cases = {
        "R102": [archive(("TOTFA.xml", xml), ("TOTFA.xml", xml)), archive(("inner.zip", b"PK\x03\x04rest")),
                 archive(("TOTFA.xml", b"PK\x03\x04nested")), archive(("TOTFA.xml", xml), symlink=True),
                 archive()],
        "R103": [archive(("/etc/TOTFA.xml", xml)), archive(("C:TOTFA.xml", xml)), archive(("TOT FA.xml", xml)),
                 archive(("TOT\x01FA.xml", xml))],
        "R104": [archive(("TOTFA.xml", xml), encrypt_flag=True), io.BytesIO(b"PK\x03\x04broken")],
        "R101": [io.BytesIO(b"\x89PNG\r\n\x1a\n"), io.BytesIO(xml)],
    }
    for code, files in cases.items():
        for upload in files:
            assert check_claims(upload, claims_form(), LIMITS).rejected.code == code, code


def test_a_zip_bomb_stops_while_inflating_even_when_the_header_lies():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("TOTFA.xml", b'<?xml version="1.0" encoding="Big5"?>' + b" " * 20_000_000)
    data = bytearray(buffer.getvalue())
    # Rewrite both declared sizes to look harmless: the limit must hold while inflating.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")
    data[22:26] = (1000).to_bytes(4, "little")
    outcome = check_claims(io.BytesIO(bytes(data)), claims_form(), Limits(max_uncompressed=10**9, max_ratio=200))
    assert outcome.rejected.code in ("R105", "R104")


def test_a_generated_month_is_clean_and_its_counts_match():
    buffer = io.BytesIO()
    totals = samples.claims_zip(buffer, cases=400, seed=3)
    buffer.seek(0)
    outcome = check_claims(buffer, claims_form(), LIMITS)
    assert outcome.ok, outcome.listed[:5]
    assert outcome.records == outcome.declared_records == totals.cases


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_a_generated_ic_day_is_clean(version):
    buffer = io.BytesIO()
    totals = samples.write_ic(buffer, version=version, records=300, seed=5, day=TODAY - timedelta(days=1),
                              now=NOW)
    buffer.seek(0)
    outcome = check_ic(buffer, IcForm("3501200000", NOW), LIMITS)
    assert outcome.ok, outcome.listed[:5]
    assert (outcome.records, outcome.orders) == (totals.records, totals.orders)
    assert outcome.records == outcome.valid_records + outcome.invalid_records


def test_counters_follow_the_seed_arithmetic_for_invalid_records():
    """接收筆數 = 有效明細 + 無效明細; 無效醫令 are the MB2 of invalid RECs (seed 003 圖貳-10)."""
    outcome = run(samples.MUTATIONS["I11"])  # A72=1 with A78=03 on one REC of three drug lines
    assert (outcome.records, outcome.valid_records, outcome.invalid_records) == (1, 0, 1)
    assert (outcome.orders, outcome.valid_orders, outcome.invalid_orders) == (3, 0, 3)


def test_the_claims_report_is_big5_in_nhia_layout_with_its_csv():
    outcome = run(samples.MUTATIONS["C24"])
    meta = ReportMeta("3501200000", "A113080500012", datetime(2024, 8, 5, 10, 21, 33),
                      datetime(2024, 8, 5, 10, 21, 40), 2345, "TOTFA.xml", "11307", "1 送核", "11 門診西醫診所")
    text = claims_text(outcome, meta).decode("cp950")
    assert text.startswith("預檢醫療費用申報檢核錯誤明細表\r\n")
    assert "收件序號：A113080500012    上傳時間：113/08/05 10:21:33" in text
    assert "檢核結果：錯誤 2 筆（影響 1 件）" in text
    assert "R430" in text and "總表  t38" in text
    rows = findings_csv(outcome, "claims").decode("cp950").splitlines()
    assert rows[0].split(",")[:3] == ["序號", "案件序", "案件分類"] and len(rows) == 1 + outcome.total_findings


def test_the_ic_report_has_twelve_header_values_and_record_blocks():
    outcome = run(samples.MUTATIONS["I11"])
    meta = ReportMeta("3501200000", "I115112300001", NOW, NOW, 1234, module_no="000012345678")
    text = ic_text(outcome, meta).decode("cp950")
    header, _, rest = text.partition("=" * 75)
    assert header.count(":[") == 12 and "無效明細筆數:[1]" in header
    assert "第[1]筆 A12=[A123456789] A23=[01]" in rest and "A78[1]:AD10;" in rest


def inpatient_claim(cases: int = 40) -> str:
    """A generated 住院 claim, as text to mutate."""
    buffer = io.BytesIO()
    samples.write_claims(buffer, kind="ip", cases=cases, seed=7)
    return buffer.getvalue().decode("cp950")


def check_inpatient(text: str):
    """Check 住院 text as 西醫住院 (22)."""
    return check_claims(zipped(text.encode("cp950"), "TOTFB.xml"), claims_form(kind="ip", medical_category="22"),
                        LIMITS)


def test_a_generated_inpatient_month_is_clean():
    outcome = check_inpatient(inpatient_claim())
    assert outcome.ok, outcome.listed[:5]
    assert outcome.records == outcome.declared_records == 40


def test_inpatient_findings_use_the_outpatient_codes_and_name_inpatient_tags():
    text = inpatient_claim()
    first_points = text.index("<p18>")
    value = text[first_points + 5:text.index("</p18>", first_points)]
    text = text[:first_points] + f"<p18>{int(value) + 1}</p18>" + text[text.index("</p18>", first_points) + 6:]
    claim = text.index("<d85>")
    amount = text[claim + 5:text.index("</d85>", claim)]
    text = text[:claim] + f"<d85>{int(amount) + 1}</d85>" + text[text.index("</d85>", claim) + 6:]
    outcome = check_inpatient(text)
    found = {f.code: f for f in outcome.listed}
    assert set(found) == {"R505", "R430", "R602"}, outcome.listed
    assert found["R505"].field == "p18" and "醫令點數(p18)" in found["R505"].message
    assert "申請點數(d85)不等於合計點數減部分負擔點數" in found["R430"].message
    assert found["R602"].message.startswith("申請點數總計(t30)")
    assert outcome.invalid_records == 1


def test_an_inpatient_file_sent_as_outpatient_is_refused():
    outcome = check_claims(zipped(inpatient_claim(3).encode("cp950")), claims_form(), LIMITS)
    assert outcome.rejected.code == "R203"


@pytest.mark.parametrize("in_memory", [10, 2**20])  # spilled to disk, kept in memory
def test_a_spool_gives_back_its_rows_with_tabs_and_line_breaks_flattened(in_memory):
    spool = Spool(in_memory)
    spool.append(("A123456789", "a\tb", "c\nd", 5))
    spool.append(("",))
    assert list(spool) == [("A123456789", "a b", "c d", "5"), ("",)] and spool.count == 2
    spool.close()


def test_the_worker_warm_up_checks_the_examples_and_keeps_the_tables_loaded(monkeypatch):
    # jobs.worker runs this before RQ forks a work horse per upload; it must not fail quietly.
    from portal.checks import tables, warmup

    tables.icd_codes.cache_clear()
    checked = []
    real_claims, real_ic = warmup.check_claims, warmup.check_ic
    monkeypatch.setattr(warmup, "check_claims", lambda *a, **k: checked.append(real_claims(*a, **k)) or checked[-1])
    monkeypatch.setattr(warmup, "check_ic", lambda *a, **k: checked.append(real_ic(*a, **k)) or checked[-1])
    warmup.warm_up(freeze=False)
    assert [o.profile for o in checked] == ["claims_op", "ic", "ic"]
    assert all(o.rejected is None for o in checked), [o.rejected for o in checked]
    assert tables.icd_codes.cache_info().currsize == 2  # both ICD-10 lists, read once for every later check


def test_a_value_valid_in_one_field_is_still_judged_in_another():
    # The checkers remember values that passed a field's form check; that memory is per field.
    xml = samples.valid_claims_example()
    for _ in range(2):
        assert check_claims(zipped(xml), claims_form(), LIMITS).ok  # 1130702 passes as d9 就醫日期
    outcome = check_claims(zipped(xml.replace(b"<d8>01</d8>", b"<d8>1130702</d8>", 1)), claims_form(), LIMITS)
    assert outcome.rejected.code == "R209" and "'d8'" in outcome.rejected.message
