"""The sign flow without HTTP: a checked request → PIN page; the PIN post → post-back page."""

from __future__ import annotations

import contextlib
import logging
import re

from portal.cardagent import pages, protocol
from portal.cardagent.backend import AgentError, CardBackend
from portal.cardagent.checks import SignRequest
from portal.cardagent.pending import Pending, PendingStore
from portal.cardagent.signing import error_fields, sign_login

log = logging.getLogger(__name__)
PIN_RE = re.compile(r"[0-9A-Za-z]{4,12}", re.ASCII)
# Problems before the PIN page that the user can fix and retry (anything else: agent_error).
RETRY_CODES = {"reader_missing", "card_absent", "wrong_card_type", "module_missing", "card_removed"}
# After the PIN page, these mean the card that was shown is no longer there.
GONE_CODES = {"card_absent", "wrong_card_type", "reader_missing", "card_removed"}
EXPIRED = "這個登入要求已逾時或已使用，請回到入口網站重新登入。"


@contextlib.contextmanager
def backend_errors():
    """A backend bug becomes agent_error for the user, and a traceback in the log."""
    try:
        yield
    except AgentError:
        raise
    except Exception:
        log.exception("card backend failed")
        raise AgentError("agent_error") from None


class Agent:
    """Holds the backend and the pending requests; one instance per server."""

    def __init__(self, backend: CardBackend, pending: PendingStore | None = None):
        self.backend = backend
        self.pending = pending or PendingStore()

    def start(self, request: SignRequest) -> pages.Page:
        """POST /v1/sign: refuse a wrong reader/card combination before touching any card."""
        if request.card_type not in protocol.READER_CARDS[request.reader_type]:
            return pages.problem_page(request, "wrong_reader")
        try:
            with backend_errors():
                choices = self.backend.choices(request.card_type)
                seen = self._look(request, choices[0][0] if choices else None)
        except AgentError as exc:
            log.info("sign request: %s (%s)", exc.code, exc)
            return pages.problem_page(request, exc.code if exc.code in RETRY_CODES else "agent_error")
        if seen.tries_left == 0:
            return pages.post_back_page(request, error_fields(request, "pin_blocked"))
        return self._pin_page(self.pending.add(seen), seen)

    def _look(self, request: SignRequest, choice: str | None) -> Pending:
        """Open card and module once to show the PIN page: holder, tries, and that both are there."""
        session = self.backend.open_card(request.reader_type, request.card_type, choice)
        try:
            self.backend.module(request.reader_type).close()
            nhi = request.card_type in protocol.PASSWORD_CARDS
            return Pending(request, session.identity, session.holder, None if nhi else session.tries_left(), choice)
        finally:
            session.close()

    def submit(self, fields: dict[str, str]) -> pages.Page:
        """POST /v1/sign/pin: cancel, wrong PIN (same page again), or sign and post back."""
        token = fields.get("token", "")
        pending = self.pending.take(token)
        if pending is None:
            return pages.refused_page(400, EXPIRED)
        request = pending.request
        if fields.get("action") == "cancel":
            return pages.post_back_page(request, error_fields(request, "cancelled"))
        choice = fields.get("card", pending.choice) if pending.choice is not None else None
        pin = fields.get("pin", "")
        if request.card_type not in protocol.PASSWORD_CARDS and not PIN_RE.fullmatch(pin):
            self.pending.put_back(token, pending)
            return self._pin_page(token, pending, "請輸入 4 到 12 位的 PIN 碼。")
        try:
            with backend_errors():
                result = self._sign(pending, choice, pin)
        except AgentError as exc:
            if exc.code == "pin_wrong" and exc.tries_left:
                pending.tries_left = exc.tries_left
                self.pending.put_back(token, pending)
                return self._pin_page(token, pending, f"PIN 碼錯誤，剩餘 {exc.tries_left} 次")
            log.info("PIN post: %s (%s)", exc.code, exc)
            return pages.post_back_page(request, error_fields(request, _final_code(exc)))
        return pages.post_back_page(request, result)

    def _sign(self, pending: Pending, choice: str | None, pin: str) -> dict[str, str]:
        """Open the card again, check it is the one the PIN page showed, then sign."""
        request = pending.request
        try:
            session = self.backend.open_card(request.reader_type, request.card_type, choice)
        except AgentError as exc:
            raise AgentError("card_removed" if exc.code in GONE_CODES else exc.code, detail=str(exc)) from None
        try:
            if choice != pending.choice:  # soft backend: the user picked another card
                pending.choice, pending.identity, pending.holder = choice, session.identity, session.holder
            elif session.identity != pending.identity:
                raise AgentError("card_removed", detail="another card is in the reader")
            module = self.backend.module(request.reader_type)
            try:
                return sign_login(request, session, module, pin)
            finally:
                module.close()
        finally:
            session.close()

    def _pin_page(self, token: str, pending: Pending, notice: str = "") -> pages.Page:
        """The PIN page for a pending request (with the soft cards to choose from)."""
        choices = self.backend.choices(pending.request.card_type)
        return pages.pin_page(pending.request, token, pending.holder, pending.tries_left, notice, choices,
                              pending.choice)


def _final_code(exc: AgentError) -> str:
    """The error code posted back after the PIN page."""
    if exc.code in ("pin_wrong", "pin_blocked"):
        return "pin_blocked"  # pin_wrong here means no tries left
    return exc.code if exc.code in protocol.ERRORS else "agent_error"
