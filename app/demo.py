"""Demo data: the Service Desk team and a restoration board with weeks of believable history.

The history is simulated hour by hour and written only through the service layer with `at=`
timestamps, so WIP limits, flow dates and the event log are exactly what real use produces.
Cards are pulled when the next column has room; a card that finds no room waits.
"""

import heapq
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.accounts.models import User
from app.accounts.services import create_team, create_user, set_skill
from app.boards.models import Board
from app.boards.services import active_columns, board_lanes, create_board, set_member
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import (
    add_comment,
    archive_card,
    block_card,
    create_card,
    unblock_card,
    update_card,
)
from app.clock import utcnow
from app.demo_swarms import SwarmDirector
from app.errors import WipLimitReached
from app.retros.cadence import set_cadence
from app.retros.services import add_note, advance, group_notes, name_group, start_retro, vote
from app.slos.services import define_objective

DEMO_USER = "alice"
DEMO_PASSWORD = "swarmboard-demo"
TIMEZONE = "Europe/Paris"
HOUR = timedelta(hours=1)

CREW = [
    ("alice", "Alice Moreau", {"service-desk": 5, "itil": 4, "identity": 3, "windows": 3}),
    ("bob", "Bob Okafor", {"networking": 5, "vpn": 4, "firewalls": 4, "linux": 2}),
    ("carol", "Carol Lindqvist", {"linux": 5, "kubernetes": 4, "storage": 3, "databases": 2}),
    ("dan", "Dan Whitaker", {"windows": 5, "identity": 4, "m365": 4, "service-desk": 3}),
    ("erin", "Erin Castillo", {"databases": 5, "storage": 4, "backup": 4, "linux": 3}),
]
VIEWER = ("viewer", "Vera Ionescu (service owner)")
DISPATCHERS = ("alice", "dan")  # who logs and triages incoming calls

FILLERS = {
    "site": ["Lyon", "Lille", "Nantes", "the Bordeaux office", "warehouse 2"],
    "app": ["SAP", "Workday", "Salesforce", "the payroll portal", "the expenses app", "Jira"],
    "host": ["LT-0412", "LT-0388", "PC-FIN-07", "LT-1120", "LT-0951"],
    "server": ["app-prd-03", "web-prd-01", "etl-prd-02", "monitor-01"],
    "db": ["orders-db", "crm-db", "dwh-pg01"],
    "dept": ["Finance", "HR", "Sales", "Logistics", "Legal", "Marketing"],
    "person": ["J. Martin", "S. Dubois", "K. Nguyen", "L. Bernard", "P. Rossi", "M. Haddad"],
}

# (title, skill needed, tags) per kind of work.
TITLES = {
    "desk": [
        ("Outlook keeps asking for a password on {host}", "m365", "email"),
        ("VPN will not connect from home for {person}", "vpn", "vpn,remote"),
        ("Printer on the 2nd floor in {site} is offline", "service-desk", "printer"),
        ("Shared drive S: not mapped for {dept}", "windows", "file-share"),
        ("Laptop {host} will not boot after the update", "windows", "hardware"),
        ("Teams calls drop every few minutes in {site}", "networking", "m365,voice"),
        ("{person} is locked out of their account", "identity", "account"),
        ("MFA prompt not arriving on {person}'s new phone", "identity", "mfa,account"),
        ("{app} login fails for {dept}", "identity", "sso"),
        ("Wi-Fi very slow in the {site} meeting rooms", "networking", "wifi"),
        ("Calendar sharing broken for {dept}", "m365", "email"),
        ("Second screen not detected on {host}", "windows", "hardware"),
    ],
    "specialist": [
        ("Packet loss on the WAN link to {site}", "networking", "network,wan"),
        ("Firewall blocks outbound SFTP to the bank", "firewalls", "firewall,finance"),
        ("Intermittent DNS failures for internal names", "networking", "dns"),
        ("Disk full on {server}", "linux", "capacity"),
        ("Nightly export job not running on {server}", "linux", "batch"),
        ("Replication lag on the {db} replica", "databases", "database"),
        ("Deadlocks on {db} during month-end close", "databases", "database,finance"),
        ("Backup of {db} failing every night", "backup", "backup"),
        ("Group policy not applied to new laptops", "windows", "gpo"),
        ("LDAP bind failures from the HR application", "identity", "ldap,hr"),
        ("Pods crash-looping in the payments namespace", "kubernetes", "k8s,payments"),
        ("Intranet ingress returns 503 at peak times", "kubernetes", "k8s,intranet"),
        ("Latency spikes on datastore DS-03", "storage", "san"),
        ("NFS share read-only on {server}", "storage", "nfs"),
    ],
    "request": [
        ("New starter account for {person} ({dept})", "identity", "onboarding"),
        ("Access to {app} for {person}", "identity", "access"),
        ("Install Visio on {host}", "windows", "software"),
        ("Shared mailbox for the {dept} team", "m365", "email"),
        ("Add {person} to the VPN group", "vpn", "vpn,access"),
        ("Replace broken headset for {person}", "service-desk", "hardware"),
        ("Leaver: disable the accounts of {person}", "identity", "offboarding"),
    ],
    "change": [
        ("Renew the TLS certificate of the intranet", "linux", "certificate"),
        ("Monthly patching of the file servers", "windows", "patching"),
        ("Upgrade PostgreSQL on {db} to version 16", "databases", "database,upgrade"),
        ("Firewall rule for the new logistics partner", "firewalls", "firewall"),
        ("Rotate the service account passwords of {app}", "identity", "security"),
        ("Add a node to the production Kubernetes cluster", "kubernetes", "k8s,capacity"),
        ("Grow the {db} volume by 500 GB", "storage", "capacity"),
    ],
    "problem": [
        ("Problem: VPN sessions drop after about 8 hours", "vpn", "vpn"),
        ("Problem: nightly backups overrun into business hours", "backup", "backup"),
        ("Problem: repeated lockouts from old phone mail profiles", "identity", "account"),
        ("Problem: disk fills up on {server} every month", "linux", "capacity"),
        ("Problem: printers in {site} drop off the network", "networking", "printer"),
    ],
    "major": [
        ("Major incident: email down for all users", "m365", "email,major"),
        ("Major incident: {app} unavailable", "databases", "major"),
        ("Major incident: internet outage at {site}", "networking", "network,major"),
        ("Major incident: card payments failing on the web shop", "kubernetes", "payments,major"),
    ],
}

# kind: (weight, card type, class of service, routes to choose from)
KINDS = {
    "desk": (44, "incident", "standard", ["desk"]),
    "specialist": (20, "incident", "standard", ["specialist", "fix_in_place"]),
    "request": (18, "service_request", "standard", ["request"]),
    "change": (8, "change", "fixed_date", ["change"]),
    "problem": (5, "problem", "intangible", ["problem"]),
    "major": (2.5, "incident", "expedite", ["major"]),
}

# The columns a card passes through after "Reported", by the path its work takes.
ROUTES = {
    "desk": ["Acknowledged", "Investigating", "Verifying", "Resolved", "Closed"],
    "request": ["Acknowledged", "Investigating", "Resolved", "Closed"],
    "fix_in_place": [
        "Acknowledged",
        "Investigating",
        "Awaiting specialist",
        "Specialist fixing",
        "Verifying",
        "Resolved",
        "Closed",
    ],
    "specialist": [
        "Acknowledged",
        "Investigating",
        "Awaiting specialist",
        "Specialist fixing",
        "Ready to deploy",
        "Deploying",
        "Verifying",
        "Resolved",
        "Closed",
    ],
    "change": [
        "Acknowledged",
        "Awaiting specialist",
        "Specialist fixing",
        "Ready to deploy",
        "Deploying",
        "Verifying",
        "Closed",
    ],
    "problem": [
        "Acknowledged",
        "Investigating",
        "Awaiting specialist",
        "Specialist fixing",
        "Improvement review",
        "Closed",
    ],
    "major": [
        "Acknowledged",
        "Investigating",
        "Specialist fixing",
        "Deploying",
        "Verifying",
        "Resolved",
        "Improvement review",
        "Closed",
    ],
}

# Hours a card stays in a column once it is there: (low, most likely, high).
DWELL = {
    "Reported": (0.2, 0.5, 4),
    "Acknowledged": (0.2, 1, 6),
    "Investigating": (0.5, 2, 8),
    "Awaiting specialist": (0.5, 3, 16),
    "Specialist fixing": (2, 8, 40),
    "Ready to deploy": (1, 6, 36),
    "Deploying": (0.5, 1.5, 4),
    "Verifying": (0.5, 2, 12),
    "Resolved": (2, 12, 40),
    "Improvement review": (12, 30, 72),
}
SPEED = {"major": 0.15, "problem": 2.5}

# reason: (columns where it strikes, hours it lasts (low, mode, high), what may get said)
BLOCKERS = {
    "Waiting for vendor": (
        ("Specialist fixing",),
        (12, 40, 120),
        (
            "Case opened with the vendor; they promise an answer within two business days.",
            "Vendor asked for logs and a support bundle; sent, waiting for their L2.",
            "Replacement part ordered, delivery expected in two to three days.",
        ),
    ),
    "Waiting for user": (
        ("Investigating", "Verifying"),
        (4, 18, 72),
        (
            "Left a voicemail and an email; the user is out until tomorrow.",
            "Asked the user for a screenshot of the error and the time it happened.",
            "User is travelling; we agreed to test together when they are back.",
        ),
    ),
    "Change window": (
        ("Ready to deploy",),
        (12, 36, 96),
        (
            "Booked into the next change window (Tuesday or Thursday evening).",
            "CAB approved; deployment scheduled for the weekend window.",
        ),
    ),
    "Access request pending": (
        ("Investigating", "Specialist fixing"),
        (4, 14, 48),
        (
            "Needs admin rights on the target system; access request raised with Security.",
            "Waiting for the data owner to approve access to the share.",
        ),
    ),
}


@dataclass
class Work:
    """A card's plan in the simulation: where it goes next, when it may, and what holds it."""

    card: Card
    kind: str
    skill: str
    route: list[str]
    ready_at: datetime
    expedite: bool = False
    blocker: tuple[str, str] | None = None  # (column, reason)
    block_at: datetime | None = None
    blocked_until: datetime | None = None
    archive_at: datetime | None = None
    duplicate_of: str | None = None  # the card key this one repeats


def seed_demo(days: int = 60, seed: int = 7) -> Board:
    """Create the demo people, team and the SUP board with `days` days of history up to now.

    Everything goes through the services; the caller commits. The same seed and the same
    `now` give the same board.
    """
    rng = random.Random(seed)
    now = utcnow()
    start = now - timedelta(days=days)
    crew = {}
    for username, name, skills in CREW:
        # alice, the demo login, is also the site admin: the demo shows the administration.
        crew[username] = create_user(username, DEMO_PASSWORD, display_name=name,
                                     is_admin=username == DEMO_USER)
        for skill, level in skills.items():
            set_skill(crew[username], skill, level)
    viewer = create_user(VIEWER[0], DEMO_PASSWORD, display_name=VIEWER[1])
    team = create_team("Service Desk", [*crew.values(), viewer])
    alice = crew[DEMO_USER]
    board = create_board(
        alice,
        name="Service Desk",
        key="SUP",
        template="restoration",
        team=team,
        timezone=TIMEZONE,
        at=start,
    )
    for offset, username in enumerate(name for name in crew if name != DEMO_USER):
        set_member(board, alice, username, "member", at=start + timedelta(minutes=offset + 1))
    set_member(board, alice, viewer.username, "viewer", at=start + timedelta(minutes=10))
    Simulation(board, crew, rng, start, now).run()
    # An objective on answering the worst calls: a P1 counts as down until acknowledged.
    acknowledged = next(c for c in board.columns if c.name == "Acknowledged")
    define_objective(board, alice, name="P1 calls answered", target="97", window_days="28",
                     threshold="25", count_andon="", incident_priority="1", alerts="none",
                     restored_column=acknowledged.id, at=now)
    hold_retrospective(board, crew, now)
    return board


# The fortnight's retrospective, in its vote phase: (who, column, note); the last two grouped.
RETRO_NOTES = [
    ("bob", "well", "Swarming on the VPN outage: fixed in 40 minutes"),
    ("carol", "well", "The new runbook for storage alerts"),
    ("erin", "improve", "P1 calls wait too long in Reported"),
    ("dan", "improve", "Nobody owns the printer queue"),
    ("bob", "ideas", "Pair the dispatcher with a network person on Mondays"),
    ("carol", "improve", "Acknowledging a P1 takes over an hour at lunchtime"),
]


def hold_retrospective(board: Board, crew: dict[str, User], now: datetime) -> None:
    """A retrospective every two weeks; this fortnight's is under way, notes in and grouped,
    people voting, so the demo shows one live."""
    alice = crew[DEMO_USER]
    set_cadence(board, alice, every_weeks=2, weekday=4, starts_at="15:00", at=now)
    retro = start_retro(board, alice, at=now)
    notes = [add_note(retro, crew[who], kind=kind, body=body, at=now)
             for who, kind, body in RETRO_NOTES]
    advance(retro, alice, to="group", at=now)
    group = group_notes(retro, alice, note_id=notes[5].id, with_note_id=notes[2].id, at=now)
    name_group(retro, alice, group_id=group.id, name="P1 calls wait", at=now)
    advance(retro, alice, to="vote", at=now)
    for who, target in (("bob", {"group_id": group.id}), ("erin", {"group_id": group.id}),
                        ("carol", {"note_id": notes[3].id})):
        vote(retro, crew[who], **target, at=now)


class Simulation:
    """Hour by hour: calls arrive; people pull the most urgent ready cards where there is room."""

    def __init__(self, board: Board, crew: dict[str, User], rng, start: datetime, now: datetime):
        self.board, self.crew, self.rng = board, crew, rng
        self.start, self.now = start, now
        self.zone = ZoneInfo(board.timezone)
        self.columns = {column.name: column for column in active_columns(board)}
        self.lanes = {lane.class_of_service: lane for lane in board_lanes(board)}
        self.counts: Counter[str] = Counter()  # live cards per column, mirrors the services
        self.load: Counter[str] = Counter()  # unfinished cards owned per person
        self.works: list[Work] = []
        self.expedite_lane_busy = False
        # Its own random stream, so swarming does not change the rest of the history.
        self.swarms = SwarmDirector(crew, random.Random(7919))
        self.duplicates: set[int] = set()

    # --- time ------------------------------------------------------------------------------

    def local(self, at: datetime) -> datetime:
        return at.replace(tzinfo=UTC).astimezone(self.zone)

    def working(self, at: datetime) -> bool:
        local = self.local(at)
        return local.weekday() < 5 and 8 <= local.hour < 18

    def hours(self, low_mode_high, factor: float = 1.0) -> timedelta:
        low, mode, high = low_mode_high
        return timedelta(hours=self.rng.triangular(low, high, mode) * factor)

    def first_hour(self) -> datetime:
        """Ticks fall on whole local hours, like the office day they simulate."""
        midnight = self.local(self.start).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.astimezone(UTC).replace(tzinfo=None)

    def arrivals(self) -> list[datetime]:
        """A few calls per weekday, mostly in office hours; weekends are quiet."""
        times = []
        day = self.local(self.first_hour())
        while day.astimezone(UTC).replace(tzinfo=None) < self.now:
            weekday = day.weekday() < 5
            count = self.rng.choice([2, 3, 3, 4, 4, 4, 5, 5, 6, 7] if weekday else [0, 0, 1, 1, 2])
            for _ in range(count):
                office = weekday and self.rng.random() < 0.85
                hour = self.rng.uniform(8, 18) if office else self.rng.uniform(0, 24)
                local = day + timedelta(hours=hour)
                at = local.astimezone(UTC).replace(tzinfo=None)
                if self.start + HOUR < at < self.now:
                    times.append(at)
            day += timedelta(days=1)  # wall-clock arithmetic: midnight stays midnight over DST
        return sorted(times)

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        arrivals = self.arrivals()
        early = range(len(arrivals) * 4 // 5)  # duplicates get noticed, so not in the last days
        wanted = max(2, (self.now - self.start).days // 20)
        self.duplicates = set(self.rng.sample(early, min(wanted, len(early))))
        arrived = 0
        tick = self.first_hour()
        while tick < self.now:
            end = min(tick + HOUR, self.now)
            intents = []
            while arrived < len(arrivals) and arrivals[arrived] < end:
                intents.append((arrivals[arrived], len(intents), arrived))
                arrived += 1
            working = self.working(tick)
            due = sorted(
                (work for work in self.works if self.wants_to_act(work, tick, working)),
                key=lambda w: (not w.expedite, w.card.priority, w.card.created_at),
            )
            span = (end - tick).total_seconds()
            offsets = sorted(self.rng.uniform(0, span) for _ in due)
            for work, offset in zip(due, offsets, strict=True):  # most urgent pulls first
                intents.append((tick + timedelta(seconds=offset), len(intents), work))
            for step_at, step in self.swarms.due(end):
                intents.append((step_at, len(intents), step))
            queue = sorted(intents, key=lambda intent: intent[:2])
            heapq.heapify(queue)
            while queue:
                at, _, what = heapq.heappop(queue)
                if isinstance(what, int):
                    self.arrive(at, duplicate=what in self.duplicates)
                elif callable(what):
                    what(at)
                else:
                    self.act(what, at)
                # Swarm steps scheduled meanwhile join this hour's queue, in time order.
                for step_at, step in self.swarms.due(end):
                    heapq.heappush(queue, (step_at, len(intents) + len(queue) + 1, step))
            tick = end
        self.leave_something_blocked()
        self.swarms.ask_the_demo_user([w.card for w in self.works], self.now)

    def wants_to_act(self, work: Work, tick: datetime, working: bool) -> bool:
        if not (work.expedite or working):
            return False
        if work.archive_at is not None:
            return tick >= work.archive_at
        if work.blocked_until is not None:
            return tick >= work.blocked_until
        if work.block_at is not None and tick >= work.block_at:
            return True
        return tick >= work.ready_at

    # --- what people do --------------------------------------------------------------------

    def person(self, skill: str) -> User:
        """Someone who has the skill, preferring the more expert and the less loaded."""
        weights = []
        for username, _name, skills in CREW:
            level = skills.get(skill, 0)
            fit = level * level if level else 0.3
            weights.append(fit / (1 + self.load[username]))
        username = self.rng.choices([row[0] for row in CREW], weights)[0]
        return self.crew[username]

    def fill(self, title: str) -> str:
        return title.format(**{key: self.rng.choice(values) for key, values in FILLERS.items()})

    def arrive(self, at: datetime, duplicate: bool = False) -> None:
        names = list(KINDS)
        kind = self.rng.choices(names, [KINDS[name][0] for name in names])[0]
        if duplicate:
            kind = "desk"  # the same printer or password call, logged twice
        elif kind == "major" and self.expedite_lane_busy:
            kind = "specialist"  # the Expedite lane takes one card at a time
        _weight, card_type, service_class, routes = KINDS[kind]
        title, skill, tags = self.rng.choice(TITLES[kind])
        title = self.fill(title)
        original = next((w for w in reversed(self.works) if w.kind == "desk"), None)
        if duplicate and original is not None:  # someone else calls about the same thing
            title, skill, tags = original.card.title, original.skill, original.card.tags
        if kind == "request" and tags in ("onboarding", "offboarding"):
            service_class = "fixed_date"
        fields = {"type": card_type, "tags": tags, "required_skills": [skill]}
        if kind == "major":
            fields.update(impact="high", urgency="high")
            self.expedite_lane_busy = True
        else:
            fields["impact"] = self.rng.choices(["high", "medium", "low"], [1, 5, 4])[0]
            fields["urgency"] = self.rng.choices(["high", "medium", "low"], [2, 5, 3])[0]
        if service_class == "fixed_date":
            local_day = self.local(at).date()
            fields["due_date"] = local_day + timedelta(days=self.rng.randint(4, 15))
        if kind in ("change", "problem"):
            fields["owner"] = self.person(skill)
        dispatcher = self.crew[self.rng.choice(DISPATCHERS)]
        card = create_card(
            self.board,
            dispatcher,
            title=title,
            lane=self.lanes[service_class],
            at=at,
            **fields,
        )
        self.counts["Reported"] += 1
        if card.owner is not None:
            self.load[card.owner.username] += 1
        route = list(ROUTES[self.rng.choice(routes)])
        work = Work(
            card, kind, skill, route, at + self.hours(DWELL["Reported"]), expedite=kind == "major"
        )
        chance = {"change": 0.6, "problem": 0.4, "major": 0.0}.get(kind, 0.22)
        if self.rng.random() < chance:
            options = [
                (column, reason)
                for reason, (columns, _hours, _said) in BLOCKERS.items()
                for column in columns
                if column in route and (kind == "change") == (reason == "Change window")
            ]
            work.blocker = self.rng.choice(options) if options else None
        if duplicate:
            work.archive_at = at + self.hours((1, 2, 6))
            work.duplicate_of = original.card.key if original else None
        if kind == "major":
            add_comment(
                card,
                dispatcher,
                "Bridge call opened; status page updated, staff informed by email.",
                at=at,
            )
        self.works.append(work)

    def act(self, work: Work, at: datetime) -> None:
        card = work.card
        actor = card.owner or self.crew[self.rng.choice(DISPATCHERS)]
        if work.archive_at is not None:
            said = (
                f"Duplicate of {work.duplicate_of}; following up there."
                if work.duplicate_of
                else "Logged twice by mistake; closing this copy."
            )
            add_comment(card, actor, said, at=at)
            archive_card(card, actor, at=at)
            self.counts[card.column.name] -= 1
            self.works.remove(work)
        elif work.blocked_until is not None:
            unblock_card(card, actor, at=at)
            work.blocked_until = None
            work.ready_at = max(work.ready_at, at + self.hours((0.5, 1, 4)))
        elif work.block_at is not None and at >= work.block_at:
            column, reason = work.blocker
            block_card(card, actor, reason, at=at)
            if self.rng.random() < 0.35:
                add_comment(card, actor, self.rng.choice(BLOCKERS[reason][2]), at=at)
            work.block_at, work.blocker = None, None
            work.blocked_until = at + self.hours(BLOCKERS[reason][1])
        else:
            self.pull(work, at)

    def room(self, work: Work, name: str) -> str | None:
        """'yes', 'override' (with a reason) or None, as the team reads the WIP limits."""
        column = self.columns[name]
        if column.wip_limit is None or self.counts[name] < column.wip_limit:
            return "yes"
        if column.wip_policy == "soft":
            return "yes" if work.expedite or self.rng.random() < 0.25 else None
        if column.wip_policy == "hard-with-override" and work.expedite:
            return "override"
        return None

    def pull(self, work: Work, at: datetime) -> None:
        card = work.card
        leaving = card.column.name
        rework = leaving in ("Verifying", "Resolved") and work.route[0] != "Investigating"
        if rework and work.kind != "major" and self.rng.random() < 0.04:
            work.route = ["Investigating", "Verifying", "Resolved", "Closed"]  # not fixed after all
            add_comment(
                card,
                card.owner or self.crew["alice"],
                "The user says the problem is back; reopening the investigation.",
                at=at,
            )
        target = work.route[0]
        verdict = self.room(work, target)
        if verdict is None:
            return  # no room: it waits, and the team tries again later
        column = self.columns[target]
        if column.kind == "active" and card.owner is None:
            update_card(
                card, self.crew[self.rng.choice(DISPATCHERS)], owner=self.person(work.skill), at=at
            )
            self.load[card.owner.username] += 1
        mover = card.owner or self.crew[self.rng.choice(DISPATCHERS)]
        reason = "Major incident: all hands on it" if verdict == "override" else None
        previous = card.owner
        successor = self.swarms.leaving(card, at)
        if successor is not None:  # the expert carries on with it
            self.load[previous.username] -= 1
            self.load[successor.username] += 1
            mover = successor
        try:
            move_card(card, mover, column=column, override_reason=reason, at=at)
        except WipLimitReached:
            return  # our tally disagreed with the board: the board is right, wait
        work.route.pop(0)
        self.counts[leaving] -= 1
        self.counts[target] += 1
        factor = SPEED.get(work.kind, 1.0)
        if target in DWELL:
            work.ready_at = at + self.hours(DWELL[target], factor)
        if work.blocker and work.blocker[0] == target:
            work.block_at = at + (work.ready_at - at) * self.rng.uniform(0.1, 0.6)
        if column.kind == "done":
            self.finish(work, at)
        elif column.kind == "active":
            self.swarms.entered(card, work.kind, at)

    def finish(self, work: Work, at: datetime) -> None:
        self.works.remove(work)
        if work.card.owner is not None:
            self.load[work.card.owner.username] -= 1
        if work.kind == "major":
            self.expedite_lane_busy = False
            said = "Post-incident review done; actions recorded as problem records."
            add_comment(work.card, work.card.owner or self.crew["alice"], said, at=at)

    def leave_something_blocked(self) -> None:
        """A live board nearly always has something stuck; make sure the demo shows it."""
        if any(work.blocked_until for work in self.works):
            return
        candidates = [w for w in self.works if w.card.column.kind == "active"]
        if candidates:
            work = self.rng.choice(candidates)
            block_card(
                work.card, work.card.owner or self.crew["alice"], "Waiting for vendor", at=self.now
            )
