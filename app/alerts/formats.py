"""Reading what monitoring sends: Prometheus Alertmanager's webhook body, Grafana alerting's
(the same shape with a few more fields) and Grafana's legacy dashboard alerts. Each becomes a
`ReceivedAlert`; anything else is refused with a sentence saying what was expected."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.errors import Invalid

MAX_ALERTS = 1000  # Alertmanager's max_alerts, at most, per call
MAX_LABELS = 100
LABEL_MAX = 1000  # characters of one label or annotation value
FINGERPRINT_MAX = 64
# Grafana's legacy alert states: these fire, `ok` resolves, the others (paused, pending) wait.
LEGACY_FIRING = ("alerting", "no_data")
EXPECTED = ('Send Alertmanager\'s or Grafana\'s webhook body: an object with an "alerts" list '
            '(Alertmanager, Grafana alerting), or with "ruleId" and "state" (Grafana legacy '
            'alerts).')


@dataclass
class ReceivedAlert:
    fingerprint: str
    firing: bool
    source: str  # alertmanager, grafana
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, URL)

    @property
    def severity(self) -> str:
        return (self.labels.get("severity") or self.labels.get("priority") or "").lower()[:40]

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("title") or ""

    @property
    def description(self) -> str:
        return self.annotations.get("description") or self.annotations.get("message") or ""


def read_alerts(body) -> list[ReceivedAlert]:
    """The alerts in a webhook body, in the order sent; Invalid naming what is wrong."""
    if not isinstance(body, dict):
        raise Invalid(EXPECTED)
    if "alerts" in body:
        alerts = body["alerts"]
        if not isinstance(alerts, list):
            raise Invalid('"alerts" must be a list of alerts.')
        if len(alerts) > MAX_ALERTS:
            raise Invalid(f"At most {MAX_ALERTS} alerts per call (got {len(alerts)}); set "
                          f"max_alerts in Alertmanager's webhook_config.")
        source = "grafana" if "orgId" in body else "alertmanager"
        common = _texts(body.get("commonLabels") or {}, "commonLabels")
        return [_alert(item, index, source, common) for index, item in enumerate(alerts)]
    if "ruleId" in body and "state" in body:
        return _legacy_grafana(body)
    raise Invalid(EXPECTED)


def _alert(item, index: int, source: str, common: dict[str, str]) -> ReceivedAlert:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        raise Invalid(f"{where} must be an object with status, labels and annotations.")
    status = item.get("status")
    if status not in ("firing", "resolved"):
        raise Invalid(f'{where}.status must be "firing" or "resolved" (got {status!r}).')
    labels = {**common, **_texts(item.get("labels"), f"{where}.labels", required=True)}
    annotations = _texts(item.get("annotations") or {}, f"{where}.annotations")
    links = [(label, item[key]) for key, label in (
        ("generatorURL", "Source"), ("dashboardURL", "Dashboard"), ("panelURL", "Panel"),
        ("silenceURL", "Silence"),
    ) if _is_url(item.get(key))]
    if _is_url(annotations.get("runbook_url")):
        links.insert(0, ("Runbook", annotations["runbook_url"]))
    return ReceivedAlert(
        fingerprint=_fingerprint(item.get("fingerprint"), labels, where),
        firing=status == "firing",
        source=source,
        name=labels.get("alertname") or annotations.get("summary") or "Alert",
        labels=labels,
        annotations=annotations,
        starts_at=_time(item.get("startsAt"), f"{where}.startsAt"),
        ends_at=_time(item.get("endsAt"), f"{where}.endsAt"),
        links=links,
    )


def _legacy_grafana(body: dict) -> list[ReceivedAlert]:
    state = body["state"]
    if not isinstance(state, str):
        raise Invalid('"state" must be text such as "alerting" or "ok".')
    if state not in LEGACY_FIRING and state != "ok":
        return []  # paused or pending: nothing has happened yet
    rule = body["ruleId"]
    if not isinstance(rule, int | str) or isinstance(rule, bool):
        raise Invalid('"ruleId" must be a number.')
    name = body.get("ruleName") or body.get("title") or f"Grafana rule {rule}"
    if not isinstance(name, str):
        raise Invalid('"ruleName" must be text.')
    labels = {"alertname": name[:LABEL_MAX], **_texts(body.get("tags") or {}, "tags")}
    annotations = {}
    for key, source_key in (("summary", "title"), ("description", "message")):
        if isinstance(body.get(source_key), str) and body[source_key].strip():
            annotations[key] = body[source_key].strip()[:LABEL_MAX]
    return [ReceivedAlert(
        fingerprint=_hashed(f"grafana-rule:{body.get('orgId', '')}:{rule}"),
        firing=state in LEGACY_FIRING,
        source="grafana",
        name=name[:LABEL_MAX],
        labels=labels,
        annotations=annotations,
        links=[("Rule", body["ruleUrl"])] if _is_url(body.get("ruleUrl")) else [],
    )]


def _texts(value, where: str, required: bool = False) -> dict[str, str]:
    """A label set: an object of short text values (numbers and booleans are said as text)."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object of names and text values.")
    if len(value) > MAX_LABELS:
        raise Invalid(f"{where} has {len(value)} entries; at most {MAX_LABELS}.")
    texts = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float):
            item = str(item)
        if not isinstance(item, str):
            raise Invalid(f"{where}.{key} must be text.")
        texts[str(key)[:200]] = item[:LABEL_MAX]
    return texts


def _fingerprint(value, labels: dict[str, str], where: str) -> str:
    """The sender's fingerprint, else one made from the label set (what Alertmanager hashes)."""
    if value in (None, ""):
        return _hashed(json.dumps(sorted(labels.items())))
    if not isinstance(value, str):
        raise Invalid(f"{where}.fingerprint must be text.")
    return value if len(value) <= FINGERPRINT_MAX else _hashed(value)


def _hashed(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _time(value, where: str) -> datetime | None:
    """An RFC 3339 time as naive UTC; Alertmanager's zero time (year 1) means none."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Invalid(f"{where} must be an RFC 3339 time like 2026-12-06T09:30:00Z.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{where} is not an RFC 3339 time like 2026-12-06T09:30:00Z "
                      f"(got {value[:40]!r}).") from None
    if moment.year <= 1:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _is_url(value) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) \
        and len(value) <= 2000
