"""允入HIS廠商申請作業 (SPEC L7): which HIS vendors may connect to the institution remotely."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.db import write_transaction
from portal.logic import audit
from portal.logic.audit import Actor
from portal.logic.text import fold_fullwidth
from portal.models.authority import HisVendor, Institution
from portal.models.base import utcnow

_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)


def tax_id_valid(value: str) -> bool:
    """統一編號 checksum (Ministry of Finance rule, divisor 5 since 2023; 7th digit 7 may add 1)."""
    if len(value) != 8 or not (value.isascii() and value.isdigit()):
        return False
    total = sum(sum(divmod(int(d) * w, 10)) for d, w in zip(value, _WEIGHTS, strict=True))
    return total % 5 == 0 or (value[6] == "7" and (total + 1) % 5 == 0)


@dataclass
class VendorForm:
    """The allow form: vendor name, 統一編號, a note."""

    vendor_name: str = ""
    vendor_tax_id: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def parse_vendor(form) -> VendorForm:
    """Read and check the form."""
    data = VendorForm(*(fold_fullwidth(str(form.get(k, ""))).strip() for k in ("vendor_name", "vendor_tax_id", "note")))
    if not data.vendor_name or len(data.vendor_name) > 60:
        data.errors["vendor_name"] = "請輸入廠商名稱（最多 60 字）。"
    if not tax_id_valid(data.vendor_tax_id):
        data.errors["vendor_tax_id"] = "統一編號應為 8 位數字且檢查碼正確。"
    if len(data.note) > 100:
        data.errors["note"] = "備註最多 100 字。"
    return data


def current(institution: Institution):
    """Vendors allowed now, newest first."""
    return HisVendor.select().where((HisVendor.institution == institution) & HisVendor.revoked_at.is_null()).order_by(
        HisVendor.allowed_at.desc())


def history(institution: Institution):
    """Revoked vendors, newest revocation first."""
    return HisVendor.select().where((HisVendor.institution == institution) & HisVendor.revoked_at.is_null(False)
                                    ).order_by(HisVendor.revoked_at.desc())


def allow(institution: Institution, data: VendorForm, actor: Actor) -> HisVendor:
    """Allow a vendor (one open allowance per 統一編號)."""
    with write_transaction():
        if current(institution).where(HisVendor.vendor_tax_id == data.vendor_tax_id).exists():
            raise ValueError("這家廠商已在允入名單中。")
        row = HisVendor.create(institution=institution, vendor_name=data.vendor_name,
                               vendor_tax_id=data.vendor_tax_id, note=data.note, allowed_by=actor.label)
        audit.record("his_allow", actor, institution_id=institution.id,
                     detail={"vendor": data.vendor_name, "tax_id": data.vendor_tax_id})
    return row


def revoke(institution: Institution, raw_id, actor: Actor) -> HisVendor | None:
    """Revoke one allowance of this institution; None when the id is not one of its open ones."""
    try:
        row = current(institution).where(HisVendor.id == int(raw_id)).first()
    except (TypeError, ValueError):
        return None
    if row is None:
        return None
    with write_transaction():
        row.revoked_at, row.revoked_by = utcnow(), actor.label
        row.save()
        audit.record("his_revoke", actor, institution_id=institution.id,
                     detail={"vendor": row.vendor_name, "tax_id": row.vendor_tax_id})
    return row
