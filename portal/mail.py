"""Outgoing e-mail: SMTP as configured, or an outbox folder a newcomer can read (the default)."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path


class OutboxSender:
    """Writes each message as an .eml file under MAIL_OUTBOX_DIR (open it with any mail program)."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        """Store the message; written to a temporary name first so a reader never sees half of it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{formatdate(localtime=False, usegmt=True)[5:25].replace(' ', '-').replace(':', '')}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / f".{name}.part"
        tmp.write_bytes(bytes(message))
        tmp.replace(self.folder / name)


class SmtpSender:
    """Sends through the configured SMTP server (STARTTLS and login when set)."""

    def __init__(self, config: dict):
        self.config = config

    def send(self, message: EmailMessage) -> None:
        """Deliver one message; raises smtplib/OSError errors so the job is retried."""
        c = self.config
        with smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=30) as smtp:
            if c["SMTP_STARTTLS"]:
                smtp.starttls()
            if c["SMTP_USERNAME"]:
                smtp.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"])
            smtp.send_message(message)


def sender(config: dict):
    """The sender MAIL_BACKEND names."""
    if config["MAIL_BACKEND"] == "smtp":
        return SmtpSender(config)
    return OutboxSender(config["MAIL_OUTBOX_DIR"])


def compose(config: dict, to: list[str], subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from the portal's address."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="vpn.nhi.gov.tw")
    message.set_content(body)
    return message
