"""What a certificate says about its holder, in the profile this portal uses.

Person cards (醫事人員卡, 自然人憑證) carry the holder's national ID in the
subject's serialNumber attribute and the name in CN; institution cards
(醫事機構卡, 政府單位憑證卡) and security modules carry the institution code in
serialNumber and its name in O. (Real HCA/MOICA profiles put these in the same
attributes or in extensions; mapping them is a per-CA adapter behind this module.)
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

PERSON_CARDS = ("medical-staff", "citizen")
INSTITUTION_CARDS = ("medical-org", "government")


@dataclass(frozen=True)
class Holder:
    """Who a certificate names: a person (national ID) or an institution (code)."""

    serial: str
    name: str
    organization: str


def holder_of(cert: x509.Certificate) -> Holder:
    """The holder attributes of a certificate subject ('' where absent)."""
    def first(oid) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return Holder(first(NameOID.SERIAL_NUMBER), first(NameOID.COMMON_NAME), first(NameOID.ORGANIZATION_NAME))
