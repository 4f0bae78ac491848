"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that keeps every message it accepts;
the `smtp` fixture (tests/conftest.py) points the app at it."""

import email
import email.policy
import re

from aiosmtpd.controller import Controller

from tests.servers import free_port


class Inbox:
    """An SMTP server's handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 OK"


def start_smtp(app):
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP={"host": "127.0.0.1", "port": port, "user": "", "password": "",
                            "tls": "none"}, PUBLIC_URL="https://sb.example",
                      MAIL_FROM="Swarmboard <sb@example.com>")
    inbox.controllers = [controller]
    return inbox


def links_in(message) -> list[str]:
    """The addresses in a message's plain-text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://\S+", text)
