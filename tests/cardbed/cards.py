"""TEST certificates for every card kind (one set per session) and the cards and files made from them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from portal.pki import testca
from portal.pki.profiles import holder_of
from portal.pki.testca import Authority, Issued
from tests.cardbed.applet import NhiData, TestCard

PIN = "123456"
NHI_LIN = NhiData(card_no="000012345678", name="林小美", national_id="A223456781", birth_roc="0750304", sex="F")


@dataclass
class CardPki:
    """TEST CAs per card type and one issued certificate per card the tests use."""

    roots: dict[str, Authority]           # hca, moica, gca, sam, portal
    staff_rsa: Issued                     # 醫事人員卡, RSA
    staff_ec: Issued                      # 醫事人員卡, EC P-256 (card answers r ‖ s)
    citizen: Issued                       # 自然人憑證
    org: Issued                           # 醫事機構卡
    gov: Issued                           # 政府單位憑證卡 (EC)
    sam: Issued                           # 安全模組卡 (EC)
    cloud: Issued                         # 雲端安全模組 (RSA)

    def for_type(self, card_type: str) -> Issued:
        """The usual certificate of a PKI card type."""
        return {"medical-staff": self.staff_rsa, "citizen": self.citizen, "medical-org": self.org,
                "government": self.gov}[card_type]


def make_pki() -> CardPki:
    """Fresh TEST CAs and certificates (a few RSA keys: make it once per session)."""
    roots = {name: testca.create_root(f"TEST {name.upper()} ROOT CA") for name in ("hca", "moica", "gca", "sam", "portal")}
    return CardPki(
        roots=roots,
        staff_rsa=testca.issue(roots["hca"], serial="A123456789", cn="王大明"),
        staff_ec=testca.issue(roots["hca"], serial="B223456789", cn="陳美玲", key_kind="ec"),
        citizen=testca.issue(roots["moica"], serial="C123456789", cn="林志明"),
        org=testca.issue(roots["hca"], serial="3501234567", o="TEST 幸福診所"),
        gov=testca.issue(roots["gca"], serial="376000000A", o="TEST 臺北市政府衛生局", key_kind="ec"),
        sam=testca.issue(roots["sam"], serial="3501234567", o="TEST 幸福診所", key_kind="ec"),
        cloud=testca.issue(roots["portal"], serial="3501234567", o="TEST 幸福診所"),
    )


def pki_card(card_type: str, issued: Issued, pin: str = PIN, tries: int = 3) -> TestCard:
    """A person or institution card holding issued's certificate and key."""
    return TestCard(card_type, holder_name(issued), certificate=issued.der, key=issued.key, pin=pin, tries=tries)


def nhi_card(data: NhiData = NHI_LIN) -> TestCard:
    """A 健保卡: basic data in Big5, no key."""
    return TestCard("nhi", data.name, nhi=data)


def sam_card(issued: Issued) -> TestCard:
    """An institution's security module card (signs without PIN)."""
    return TestCard("sam", holder_name(issued), certificate=issued.der, key=issued.key)


def holder_name(issued: Issued) -> str:
    """The name a certificate shows: CN for people, O for institutions."""
    holder = holder_of(issued.cert)
    return holder.name or holder.organization


def write_soft_card(folder: Path, stem: str, card_type: str, holder: str, issued: Issued | None = None,
                    pin: str = PIN, nhi: NhiData | None = None, label: str = "") -> Path:
    """A soft card file (docs/card-login.md §3) with its PEM files beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"label = {_toml(label or holder)}", f"type = {_toml(card_type)}", f"holder = {_toml(holder)}"]
    if issued is not None:
        (folder / f"{stem}.crt.pem").write_bytes(issued.cert_pem)
        (folder / f"{stem}.key.pem").write_bytes(issued.key_pem)
        lines += [f"pin = {_toml(pin)}", f'certificate = "{stem}.crt.pem"', f'key = "{stem}.key.pem"']
    if nhi is not None:
        lines.append("[nhi]")
        lines += [f"{key} = {_toml(getattr(nhi, key))}" for key in ("card_no", "name", "national_id", "birth_roc", "sex")]
    path = folder / f"{stem}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_cloud_module(folder: Path, issued: Issued) -> Path:
    """The 雲端安全模組 folder: module-cert.pem + module-key.pem."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "module-cert.pem").write_bytes(issued.cert_pem)
    (folder / "module-key.pem").write_bytes(issued.key_pem)
    return folder


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)
