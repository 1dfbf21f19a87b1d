"""Result reports: Big5 text in NHIA's layouts (FORMATS §2.7, §3.9) and a CSV of the same rows.

Both are cp950 with CRLF line ends, as Windows tools at clinics expect; the
text report pads columns by Big5 byte width so they line up in Notepad.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from portal.checks.fields import big5_length
from portal.checks.findings import Finding
from portal.checks.outcome import Outcome

RULE = "=" * 75
_ROC = "{y:03d}/{m:02d}/{d:02d} {H:02d}:{M:02d}:{S:02d}"


@dataclass(frozen=True)
class ReportMeta:
    """Who sent what, when: the header lines of a report."""

    institution: str
    receipt_no: str
    received_at: datetime  # Asia/Taipei
    finished_at: datetime
    file_size: int
    file_name: str = ""
    fee_month: str = ""
    claim_type: str = ""  # 申報類別 label, e.g. "1 送核"
    medical_category: str = ""  # e.g. "11 門診西醫診所"
    module_no: str = ""  # IC: 安全模組代碼


def roc_stamp(moment: datetime, compact: bool = False) -> str:
    """113/08/05 10:21:33, or 1130805102133 when compact (IC report header)."""
    y = moment.year - 1911
    if compact:
        return f"{y:03d}{moment:%m%d%H%M%S}"
    return _ROC.format(y=y, m=moment.month, d=moment.day, H=moment.hour, M=moment.minute, S=moment.second)


def pad(text: str, width: int) -> str:
    """text padded with spaces to width Big5 bytes (never cut)."""
    return text + " " * max(1, width - big5_length(text))


def _encode(lines: list[str]) -> bytes:
    """cp950 with CRLF; a character cp950 cannot hold (a mapped 造字) becomes '?'."""
    return ("\r\n".join(lines) + "\r\n").encode("cp950", errors="replace")


def _cap_line(outcome: Outcome) -> list[str]:
    """The sentence saying that the list stops at the cap, when it does."""
    if not outcome.truncated:
        return []
    return [f"※ 本表僅列出前 {len(outcome.listed):,} 筆，全部共 {outcome.total_findings:,} 筆；請修正後重新上傳檢核。"]


def claims_text(outcome: Outcome, meta: ReportMeta) -> bytes:
    """預檢醫療費用申報檢核錯誤明細表 (FORMATS §2.7 layout)."""
    lines = [
        "預檢醫療費用申報檢核錯誤明細表",
        f"醫事機構代號：{meta.institution}    費用年月：{meta.fee_month}    申報類別：{meta.claim_type}    "
        f"醫事類別：{meta.medical_category}",
        f"收件序號：{meta.receipt_no}    上傳時間：{roc_stamp(meta.received_at)}    "
        f"檢核完成：{roc_stamp(meta.finished_at)}",
        f"檔案：{outcome.entry_name or meta.file_name} ({meta.file_size:,} bytes)    "
        f"件數總計：{_number(outcome.declared_records)}    點數總計：{_number(outcome.declared_points)}",
    ]
    if outcome.rejected is not None:
        lines += [f"檢核結果：退件（{outcome.rejected.code}）", RULE, outcome.rejected.message, RULE]
    else:
        lines.append(f"檢核結果：錯誤 {outcome.errors:,} 筆（影響 {outcome.invalid_records:,} 件）、"
                     f"警告 {outcome.warnings:,} 筆")
        lines += _cap_line(outcome)
        lines += [RULE, "".join(pad(h, w) for h, w in _CLAIMS_COLUMNS) + "錯誤說明"]
        totals = []
        for number, finding in enumerate(outcome.listed, 1):
            if finding.record == 0:
                totals.append(finding)
                continue
            d1, d2, d3, d9, p13 = (list(finding.key) + [""] * 5)[:5]
            cells = (str(number), d1, d2.zfill(6) if d2.isdigit() else d2, d3, d9, p13, finding.field, finding.code)
            lines.append("".join(pad(c, w) for c, (_, w) in zip(cells, _CLAIMS_COLUMNS, strict=True))
                         + _with_grade(finding))
        lines.append(RULE)
        for finding in totals:
            lines.append(f"總表  {pad(finding.field, 6)}{pad(finding.code, 6)}{_with_grade(finding)}")
    lines.append("※ 預檢結果僅供參考，不視為正式申報；正式申報仍請依規定上傳送核。")
    return _encode(lines)


_CLAIMS_COLUMNS = (("序號", 6), ("案件分類", 10), ("流水編號", 10), ("身分證號", 13), ("就醫日期", 10),
                   ("醫令序", 8), ("欄位", 6), ("錯誤代碼", 10))


def _with_grade(finding: Finding) -> str:
    """The message, marked when it only asks for a look."""
    return ("（警告）" if finding.severity == "warn" else "") + finding.message


def _number(value: int | None) -> str:
    """1,206 or － when unknown."""
    return f"{value:,}" if value is not None else "－"


def ic_text(outcome: Outcome, meta: ReportMeta) -> bytes:
    """健保卡就醫資料上傳檢核結果 (FORMATS §3.9: 12 bracketed header values, 75 '=' between RECs)."""
    received, finished = roc_stamp(meta.received_at, True), roc_stamp(meta.finished_at, True)
    lines = [
        "健保卡就醫資料上傳檢核結果",
        f"檔案序號:[{meta.receipt_no}]    安全模組代碼:[{meta.module_no}]    醫事機構代碼:[{meta.institution}]",
        f"上傳日期時間:[{received}]    檔案大小:[{meta.file_size}]    上傳筆數:[{outcome.records}]",
        f"接收日期時間:[{finished}]    接收筆數:[{outcome.records}]    接收醫令筆數:[{outcome.orders}]",
        f"有效明細筆數:[{outcome.valid_records}]    有效醫令筆數:[{outcome.valid_orders}]    "
        f"無效明細筆數:[{outcome.invalid_records}]",
    ]
    if outcome.rejected is not None:
        lines += [RULE, f"檔案退件:[{outcome.rejected.code}] {outcome.rejected.message}"]
        return _encode(lines + [RULE])
    lines += _cap_line(outcome)
    by_record: dict[int, list[Finding]] = {}
    for finding in outcome.listed:
        by_record.setdefault(finding.record, []).append(finding)
    v2 = outcome.version == "2.0"
    names = ("M03", "M07", "M11", "M15") if v2 else ("A12", "A23", "A17")
    for record in sorted(by_record):
        findings = by_record[record]
        key = (list(findings[0].key) + [""] * 4)[:len(names)]
        lines.append(RULE)
        lines.append(f"第[{record}]筆 " + " ".join(f"{n}=[{k}]" for n, k in zip(names, key, strict=True)))
        lines.append("錯誤原因: " + "".join(f"{f.field}:{f.code};" for f in findings))
        lines += [f"  {f.field}:{f.code} {_with_grade(f)}" for f in findings]
    lines.append(RULE)
    return _encode(lines)


def findings_csv(outcome: Outcome, kind: str) -> bytes:
    """Every listed finding as a CSV row (cp950, for Excel at the clinic)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if kind == "claims":
        writer.writerow(["序號", "案件序", "案件分類", "流水編號", "身分證號", "就醫日期", "醫令序", "欄位",
                         "錯誤代碼", "嚴重程度", "錯誤說明"])
        for number, f in enumerate(outcome.listed, 1):
            key = (list(f.key) + [""] * 5)[:5] if f.record else ["總表", "", "", "", ""]
            writer.writerow([number, f.record or "", *key, f.field, f.code, f.severity_label, f.message])
    else:
        writer.writerow(["序號", "筆次", "身分證號", "就醫類別", "就診日期時間", "就醫識別碼", "欄位", "錯誤代碼",
                         "嚴重程度", "錯誤說明"])
        for number, f in enumerate(sorted(outcome.listed, key=lambda f: f.record), 1):
            key = (list(f.key) + [""] * 4)[:4]
            writer.writerow([number, f.record or "", *key, f.field, f.code, f.severity_label, f.message])
    if outcome.truncated:
        writer.writerow([f"僅列出前 {len(outcome.listed)} 筆，全部共 {outcome.total_findings} 筆"])
    return buffer.getvalue().encode("cp950", errors="replace")
