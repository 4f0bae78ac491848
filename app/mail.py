"""Sending email: the SMTP server from the configuration (SMTP_URL or SMTP_HOST, see
docs/notifications.md), shared by notifications and account emails (password reset, address
confirmation, invitations)."""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

SUBJECT_MAX = 150


def mail_on() -> bool:
    """Whether this server sends email (SMTP_URL or SMTP_HOST is set)."""
    return current_app.config.get("SMTP") is not None


def link(path: str) -> str:
    """An address on this server as people outside it reach it (PUBLIC_URL)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def message_to(address: str, subject: str, template: str, **context) -> EmailMessage:
    """A message from MAIL_FROM with a plain-text and an HTML part (`template`.txt and .html)."""
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())[:SUBJECT_MAX]
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="swarmboard")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"{template}.txt", **context))
    message.add_alternative(render_template(f"{template}.html", **context), subtype="html")
    return message


def send(message: EmailMessage) -> None:
    """Hand the message to the configured SMTP server; raises OSError or SMTPException."""
    smtp = current_app.config["SMTP"]
    timeout = current_app.config.get("SMTP_TIMEOUT", 10)
    if smtp["tls"] == "ssl":
        client = smtplib.SMTP_SSL(smtp["host"], smtp["port"], timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(smtp["host"], smtp["port"], timeout=timeout)
    with client:
        if smtp["tls"] == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp["user"]:
            client.login(smtp["user"], smtp["password"])
        client.send_message(message)
