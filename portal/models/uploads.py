"""Uploads checked by background jobs (SPEC U1–U5): the upload, and the visit keys IC history checks need."""

from __future__ import annotations

import json

from peewee import BigIntegerField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.authority import Institution, Person
from portal.models.base import BaseModel, utcnow
from portal.models.files import StoredFile
from portal.models.institution_files import InstitutionFile
from portal.models.jobs import Job

KINDS = {"claims": "預檢醫療費用申報", "ic": "健保卡就醫資料上傳", "ic_precheck": "健保卡就醫資料預檢"}
# state -> zh-TW label as the screens show it (U4: 收件 → 檢核中 → 檢核完成 / 錯誤)
STATES = {"received": "收件", "waiting": "收件（維護時段，08:00 起檢核）", "checking": "檢核中",
          "done": "檢核完成", "failed": "檢核失敗"}
RESULTS = {"ok": "檢核正確", "errors": "檢核有誤", "rejected": "退件"}


class Upload(BaseModel):
    """One uploaded file: stored under a generated key, checked by a job, its report handed to the institution."""

    institution = ForeignKeyField(Institution, backref="uploads", on_delete="CASCADE")
    person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
    kind = CharField(max_length=12)
    channel = CharField(max_length=8, default="web")  # web | api (HIS, module-signed)
    module_no = CharField(max_length=16, default="")
    receipt_no = CharField(max_length=20, unique=True)
    original_name = CharField(default="")  # shown only, sanitized; never used to store
    stored_file = ForeignKeyField(StoredFile, null=True, on_delete="SET NULL")
    size = BigIntegerField(default=0)
    sha256 = CharField(max_length=64, default="")
    form = TextField(default="{}")  # what the form said (claims: fee month, kinds, categories …)
    received_at = DateTimeField(default=utcnow)
    check_from = DateTimeField(default=utcnow)  # the end of the maintenance window when received inside it
    state = CharField(max_length=10, default="received")
    result = CharField(max_length=10, default="")
    job = ForeignKeyField(Job, null=True, on_delete="SET NULL")
    records = IntegerField(default=0)
    invalid_records = IntegerField(default=0)
    orders = IntegerField(default=0)
    invalid_orders = IntegerField(default=0)
    declared_records = IntegerField(null=True)
    declared_points = BigIntegerField(null=True)
    errors = IntegerField(default=0)
    warnings = IntegerField(default=0)
    rejected_code = CharField(max_length=8, default="")
    message = TextField(default="")
    summary = TextField(default="{}")
    report = ForeignKeyField(InstitutionFile, null=True, on_delete="SET NULL")
    started_at = DateTimeField(null=True)
    checked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("institution", "kind", "received_at"), False),)

    @property
    def form_values(self) -> dict:
        """The form fields as a dict."""
        return json.loads(self.form or "{}")

    @property
    def summary_values(self) -> dict:
        """The check's summary (counters, version, codes) as a dict."""
        return json.loads(self.summary or "{}")

    @property
    def state_label(self) -> str:
        """收件 / 檢核中 / 檢核完成 …"""
        return STATES.get(self.state, self.state)

    @property
    def result_label(self) -> str:
        """檢核正確 (claims) or 檢核無誤 (IC, as seed 003/004 word it) / 檢核有誤 / 退件; '' before the end."""
        if self.result == "ok" and self.kind != "claims":
            return "檢核無誤"
        return RESULTS.get(self.result, "")

    @property
    def active(self) -> bool:
        """Whether the check has not ended yet (the status keeps polling)."""
        return self.state in ("received", "waiting", "checking")


class IcRecord(BaseModel):
    """One REC received in an IC-card upload: its key and whether it was valid (C001, C002, Y009, Y010),
    and what the upload indicators compare with the claims (SPEC U5)."""

    institution = ForeignKeyField(Institution, on_delete="CASCADE")
    upload = ForeignKeyField(Upload, backref="records_seen", on_delete="CASCADE")
    pid = CharField(max_length=10)
    visit = CharField(max_length=13)  # 就診日期時間 YYYMMDDHHMMSS (ROC, Taipei)
    category = CharField(max_length=2)
    format = CharField(max_length=1)
    valid = BooleanField()
    on_time = BooleanField(null=True)  # received within 24 hours of the visit; None when the visit time is unreadable
    doctor = CharField(max_length=10, default="")
    diagnosis = CharField(max_length=9, default="")
    fee = IntegerField(null=True)  # 門診醫療費用(當次)
    copay = IntegerField(null=True)  # 門診部分負擔費用(當次)
    order_codes = TextField(default="")  # the MB2 order codes, space-separated

    class Meta:
        indexes = (
            (("institution", "pid", "visit", "category"), False),
            (("upload", "pid", "visit", "category"), True),
            (("institution", "visit"), False),
        )


class ClaimCase(BaseModel):
    """One 門診 case of a checked claims pre-check: what the upload indicators compare (SPEC U5)."""

    institution = ForeignKeyField(Institution, on_delete="CASCADE")
    upload = ForeignKeyField(Upload, backref="cases", on_delete="CASCADE")
    fee_month = CharField(max_length=5)
    pid = CharField(max_length=10)
    visit = CharField(max_length=7)  # d9 就醫日期 YYYMMDD
    case_type = CharField(max_length=2)
    doctor = CharField(max_length=10, default="")
    diagnosis = CharField(max_length=9, default="")
    fee = IntegerField(default=0)  # d39 合計點數
    copay = IntegerField(default=0)  # d40 部分負擔點數
    order_codes = TextField(default="")  # 藥品 and 診療 codes (p4), space-separated
    serial = CharField(max_length=4, default="")  # d29 就醫序號

    class Meta:
        indexes = ((("institution", "fee_month"), False),)


class ApiNonce(BaseModel):
    """A nonce a signed HIS request used: each is accepted once (replayed requests are refused)."""

    nonce = CharField(max_length=64, unique=True)
    seen_at = DateTimeField(default=utcnow, index=True)
