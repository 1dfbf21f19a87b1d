"""The login result: the agent builds the signed text itself and has card and module sign it."""

from __future__ import annotations

from portal.cardagent import __version__, protocol
from portal.cardagent.backend import AgentError, CardSession, Module
from portal.cardagent.checks import SignRequest


def base_fields(request: SignRequest) -> dict[str, str]:
    """The fields every post back carries."""
    return {"nonce": request.nonce, "card_type": request.card_type, "reader_type": request.reader_type,
            "agent_version": __version__}


def error_fields(request: SignRequest, code: str) -> dict[str, str]:
    """A post back that reports an error code instead of signatures."""
    return {**base_fields(request), "error": code}


def sign_login(request: SignRequest, session: CardSession, module: Module, pin: str) -> dict[str, str]:
    """Verify the PIN (PKI cards), sign signed_text with card and module; the response fields."""
    # The text comes only from the checked request and the agent's own clock, never from text
    # the portal sent. 健保卡: no PIN, no card signature; its basic data joins the text instead.
    signed_at = protocol.utc_timestamp()
    fields = {**base_fields(request), "signed_at": signed_at}
    nhi = ""
    if request.card_type in protocol.PASSWORD_CARDS:
        nhi = nhi_field(session.nhi_card())
        fields["nhi_card"] = nhi
    text = protocol.signed_text(request.origin, request.nonce, request.card_type, request.reader_type,
                                signed_at, nhi)
    if not nhi:
        session.verify_pin(pin)
        signature, algorithm = session.sign(text)
        fields.update(certificate=protocol.b64encode(session.certificate()),
                      signature=protocol.b64encode(signature), algorithm=algorithm)
    module_signature, module_algorithm = module.sign(text)
    fields.update(module_certificate=protocol.b64encode(module.certificate()),
                  module_signature=protocol.b64encode(module_signature), module_algorithm=module_algorithm)
    return fields


def nhi_field(data: dict) -> str:
    """The nhi_card field; a part holding the separator or a line break is a broken card."""
    parts = [data[key] for key in ("card_no", "name", "national_id", "birth_roc", "sex")]
    if any(ch in part for part in parts for ch in "|\r\n"):
        raise AgentError("agent_error", detail="basic data holds a separator")
    return protocol.nhi_card_field(*parts)
