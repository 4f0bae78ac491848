"""The notifications' share of the background runner (app/webhooks/delivery.py `Deliverer`, in
the server process or `flask --app wsgi deliver`): reminders, and email (app/notifications/
email.py). Each round is a function of the runner's name that commits its own work."""

import time

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.notifications.mailer import email_round
from app.notifications.reminders import remind_due
from app.notifications.services import unread_counts
from app.notifications.tell import ring

REMIND_EVERY = 60.0  # seconds: reminders are about days and minutes, not moments
EMAIL_EVERY = 5.0  # seconds: an email a few seconds after the change is immediate enough


class Every:
    """Runs `work` at most once every `seconds` (the runner wakes on every commit)."""

    def __init__(self, seconds: float, work):
        self.seconds, self.work, self.last = seconds, work, float("-inf")

    def __call__(self, runner_name: str) -> int:
        if time.monotonic() - self.last < self.seconds:
            return 0
        self.last = time.monotonic()
        return self.work(runner_name)


def reminder_round(runner_name: str) -> int:
    """Write the reminders due now; ring the bells of whoever got one."""
    try:
        told = remind_due()
        counts = unread_counts(told) if told else {}
        db.session.commit()
    except IntegrityError:  # another runner wrote the same reminder first: it is sent
        db.session.rollback()
        return 0
    ring(counts)
    return 0  # nothing to hurry back for


def init_rounds(app) -> None:
    app.extensions["sb_rounds"] = [Every(REMIND_EVERY, reminder_round),
                                   Every(EMAIL_EVERY, email_round)]
