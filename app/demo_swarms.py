"""The demo's swarming history: specialists asked in on hard cards, what they found, and a few
swarms still running (one with an invitation waiting for the demo user).

The simulation in app/demo.py drives a `SwarmDirector`: swarms start when a hard card enters a
working column, their steps are scheduled and played in time order among the other events, and
a swarm is resolved when its card moves on, so the event log stays in time order.
"""

import heapq
import itertools
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from app.accounts.models import User
from app.cards.models import Card
from app.swarms.services import (
    accept_invitation,
    add_task,
    cancel_swarm,
    invite,
    open_swarm_of,
    pin_decision,
    post_message,
    resolve_swarm,
    start_swarm,
)

# What the team learned, per skill: (help needed, what was tried, outcome, learned).
LESSONS = {
    "networking": ("Traffic drops between the sites at random", "Checked the switch logs",
                   "A flapping uplink on the core switch; moved to the spare port",
                   "Check interface error counters before anything else"),
    "vpn": ("VPN tunnels fall over after a few hours", "Re-issued the user's certificate",
            "The concentrator's idle timeout was 8 h; raised to 12 h",
            "Idle timeouts show up as 'random' drops"),
    "firewalls": ("A partner cannot reach us over SFTP", "Compared the rule base with the request",
                  "NAT rule pointed at the old DMZ address", "Document NAT with every new partner"),
    "linux": ("The server keeps filling its disk", "Cleared /tmp by hand",
              "Log rotation was broken after the upgrade; fixed the logrotate config",
              "Add a disk alert at 80%, not 95%"),
    "kubernetes": ("Pods restart in a loop after the deploy", "Rolled back once",
                   "Memory limit too low for the new JVM flags; raised limits and requests",
                   "Check OOMKilled in the pod events first"),
    "databases": ("Replication falls behind during batch runs", "Restarted the replica",
                  "A long-running report held locks; moved it to the replica",
                  "Run reports on the replica, never on the primary"),
    "storage": ("Latency spikes on the datastore", "Moved two VMs away",
                "A snapshot chain had grown to 40 links; consolidated it",
                "Snapshots older than 3 days get flagged now"),
    "backup": ("Nightly backups overrun", "Shortened the retention",
               "Backups ran full every night by mistake; back to incremental",
               "Verify the schedule after every backup software upgrade"),
    "identity": ("Accounts lock out again and again", "Reset the password twice",
                 "An old phone kept retrying with the old password; removed the profile",
                 "Look at the lockout source in the domain controller log"),
    "windows": ("Group policy is not applied to new laptops", "Ran gpupdate /force",
                "The new OU was not linked to the baseline GPO", "Link new OUs to the baseline"),
    "m365": ("Mail does not arrive for one department", "Checked the junk folder",
             "A transport rule from a past migration caught the mails", "Review transport rules"),
    "service-desk": ("The caller's problem does not fit any category", "Asked the user again",
                     "It was a hardware fault after all; replaced the dock",
                     "Ask for a photo of the setup early"),
}
MESSAGES = [
    "Joining now — can you share the error message?",
    "I have seen this before, give me 10 minutes.",
    "Logs attached to the card. Looks like it started after Tuesday's change.",
    "Confirmed: that is the cause. I can take the fix.",
]


class SwarmDirector:
    """Decides which cards get swarmed and schedules each swarm's steps."""

    def __init__(self, crew: dict[str, User], rng: random.Random):
        self.crew, self.rng = crew, rng
        self.skills = {name: {s.skill: s.level for s in user.skills} for name, user in crew.items()}
        self.steps: list[tuple[datetime, int, Callable]] = []
        self.order = itertools.count()

    def due(self, before: datetime) -> list[tuple[datetime, Callable]]:
        """The scheduled steps before `before`, earliest first."""
        ready = []
        while self.steps and self.steps[0][0] < before:
            at, _, step = heapq.heappop(self.steps)
            ready.append((at, step))
        return ready

    def later(self, at: datetime, step: Callable) -> None:
        heapq.heappush(self.steps, (at, next(self.order), step))

    def entered(self, card: Card, kind: str, at: datetime) -> None:
        """A card entered a working column: hard work sometimes calls for a swarm."""
        chance = {"specialist": 0.35, "major": 0.9, "problem": 0.3, "change": 0.15}.get(kind, 0.04)
        if card.owner is None or open_swarm_of(card) is not None or self.rng.random() >= chance:
            return
        if self.expert_for((card.required_skills or ["service-desk"])[0], card.owner) is None:
            return
        self.later(at + timedelta(minutes=self.rng.randint(10, 45)),
                   lambda when: self.start(card, kind, when))

    def start(self, card: Card, kind: str, at: datetime) -> None:
        if card.finished_at is not None or card.archived_at is not None or open_swarm_of(card):
            return
        skill = (card.required_skills or ["service-desk"])[0]
        help_needed, tried, _, _ = LESSONS.get(skill, LESSONS["service-desk"])
        swarm_type = "andon" if kind == "major" else self.rng.choices(
            ["backlog", "dispatch", "drop_in"], [5, 2, 2])[0]
        owner = card.owner
        swarm = start_swarm(card, owner, type=swarm_type, help_needed=help_needed, tried=tried,
                            skills=[skill], at=at)
        expert = self.expert_for(skill, owner)
        if expert is None:
            return
        invitation = invite(swarm, owner, expert, why=f"knows {skill}", at=at)
        joined = at + timedelta(minutes=self.rng.randint(4, 40))
        self.later(joined, lambda when: self.join(swarm, invitation, expert, when))

    def join(self, swarm, invitation, expert: str, at: datetime) -> None:
        if not swarm.is_open:
            return
        accept_invitation(invitation, self.crew[expert], at=at)
        for n, text in enumerate(self.rng.sample(MESSAGES, 3)):
            author = self.crew[expert] if n % 2 == 0 else swarm.card.owner
            self.later(at + timedelta(minutes=4 + 11 * n),
                       lambda when, a=author, t=text: self.say(swarm, a, t, when))

    def say(self, swarm, author: User, text: str, at: datetime) -> None:
        if not swarm.is_open:
            return
        message = post_message(swarm, author, text, at=at)
        if text.startswith("Confirmed"):
            pin_decision(swarm, swarm.card.owner, message.id, at=at)
            if self.rng.random() < 0.5:
                add_task(swarm, swarm.card.owner, "Write the fix up in the knowledge base",
                         assignee=swarm.card.owner.username, at=at)

    def leaving(self, card: Card, at: datetime) -> User | None:
        """The card moves on: its swarm, if any, has done its job. Returns who continues with
        the card when that is no longer its owner."""
        swarm = open_swarm_of(card)
        if swarm is None:
            return None
        if not any(s.role == "expert" for s in swarm.stints):
            cancel_swarm(swarm, card.owner, reason="Sorted out before anyone could join.", at=at)
            return None
        skill = (swarm.skills or ["service-desk"])[0]
        _, _, outcome, learned = LESSONS.get(skill, LESSONS["service-desk"])
        experts = [s.user for s in swarm.stints if s.role == "expert"]
        owner = card.owner
        continued = experts[0] if self.rng.random() < 0.3 else owner
        resolve_swarm(swarm, owner, continued_by=continued.username, outcome=outcome,
                      learned=learned, at=at)
        return continued if continued.id != owner.id else None

    def ask_the_demo_user(self, cards: list[Card], at: datetime) -> None:
        """Leave an invitation for the demo user in a running swarm (or start one for it)."""
        for card in cards:
            swarm = open_swarm_of(card)
            if swarm and card.owner.username != "alice" and not any(
                i.user.username == "alice" for i in swarm.invitations
            ):
                invite(swarm, card.owner, "alice", why="knows the service desk", at=at)
                return
        for card in cards:
            if (card.owner and card.owner.username != "alice" and card.finished_at is None
                    and card.archived_at is None and not open_swarm_of(card)):
                skill = (card.required_skills or ["service-desk"])[0]
                help_needed, tried, _, _ = LESSONS.get(skill, LESSONS["service-desk"])
                swarm = start_swarm(card, card.owner, type="backlog", help_needed=help_needed,
                                    tried=tried, skills=[skill, "itil"], at=at)
                invite(swarm, card.owner, "alice", why="knows itil", at=at)
                return

    def expert_for(self, skill: str, owner: User) -> str | None:
        able = [(level, name) for name, skills in self.skills.items()
                if (level := skills.get(skill)) and name != owner.username]
        if not able:
            return None
        best = max(able)[0]
        return self.rng.choice([name for level, name in able if level == best])
