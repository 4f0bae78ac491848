"""Chat targets: a webhook whose format is Slack, Mattermost or Microsoft Teams gets each event as
a sentence its incoming webhooks accept (they refuse our raw JSON), linking back to the card and
to its swarm room. Links are made from PUBLIC_URL, the address people open Swarmboard at."""

from flask import current_app

FORMATS = {
    "json": "Swarmboard JSON (signed)",
    "slack": "Slack (incoming webhook)",
    "mattermost": "Mattermost (incoming webhook)",
    "teams": "Microsoft Teams (incoming webhook)",
}
ALERT_COLOUR = "#c62828"  # andon, blocks, WIP overrides
CALM_COLOUR = "#1d6fd1"
ALERTS = ("alert.fired", "card.andon_pulled", "card.blocked", "wip.overridden", "swarm.started")


def link(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def sentence(event: dict, title: str | None) -> str:
    """What happened, in words (plain text; the formats add the links)."""
    who = event.get("actor") or "Someone"
    data = event.get("data") or {}
    card = event.get("card") or ""
    named = f"{card} “{title}”" if title else card
    kind = event["type"]
    said = {
        "card.created": f"{who} created {named}",
        "card.moved": f"{who} moved {named} from {data.get('from_column_name')} to "
                      f"{data.get('to_column_name')}",
        "card.blocked": f"{who} blocked {named}: {data.get('reason')}",
        "card.unblocked": f"{who} unblocked {named}",
        "card.archived": f"{who} archived {named}",
        "card.commented": f"{who} commented on {named}",
        "card.andon_pulled": f"Andon pulled on {named} by {who}: {data.get('reason')}",
        "card.andon_cleared": f"{who} cleared the andon on {named}",
        "alert.fired": f"Alert {data.get('alert')} ({data.get('severity') or 'no severity'}) "
                       f"{'fired again' if data.get('refired') else 'fired'} on {named}",
        "alert.resolved": f"Alert {data.get('alert')} resolved on {named}",
        "swarm.started": f"{who} started a {str(data.get('swarm_type', '')).replace('_', ' ')} "
                         f"swarm on {named}: {data.get('help_needed')}",
        "swarm.invited": f"{who} invited {data.get('user')} to the swarm on {named}",
        "swarm.joined": f"{data.get('user') or who} joined the swarm on {named}",
        "swarm.resolved": f"The swarm on {named} is resolved; {data.get('continued_by')} "
                          f"continues: {data.get('outcome')}",
        "swarm.cancelled": f"The swarm on {named} was cancelled: {data.get('reason')}",
        "wip.overridden": f"{who} passed the WIP limit of {data.get('name')} "
                          f"({data.get('count')}/{data.get('limit')}): {data.get('reason')}",
        "review.drafted": f"{who} drafted the post-incident review of {named}",
        "review.published": f"{who} published the post-incident review of {named} "
                            f"({data.get('actions')} action(s))",
        "review.action_added": f"{who} added an action to the review of {named}: "
                               f"{data.get('action')} {data.get('title')}",
        "retro.started": f"{who} started a retrospective on {event.get('board')} looking back "
                         f"on {data.get('period_from')} to {data.get('period_to')}",
        "retro.phase_changed": f"The retrospective on {event.get('board')} moved on to its "
                               f"{data.get('phase')} phase",
        "retro.action_added": f"{who} added an action to the retrospective on "
                              f"{event.get('board')}: {data.get('action')} {data.get('title')}",
        "retro.closed": f"{who} closed the retrospective on {event.get('board')} "
                        f"({data.get('notes')} note(s), {data.get('actions')} action(s))",
        "improvement.checked": f"{named} {data.get('verdict')}: {data.get('metric')} "
                               f"{data.get('baseline')} → {data.get('after')}",
        "slo.budget_low": f"Error budget low: {data.get('name')} has "
                          f"{_percent(data.get('left_percent'))} left; reliability work first",
        "slo.budget_exhausted": f"Error budget spent: {data.get('name')} "
                                f"({data.get('target')}% over {data.get('window_days')} days); "
                                "reliability work first",
        "slo.budget_recovered": f"Error budget recovered: {data.get('name')} has "
                                f"{_percent(data.get('left_percent'))} left",
        "slo.overridden": f"{who} started {named} with the error budget of {data.get('name')} "
                          f"at {_percent(data.get('left_percent'))}: {data.get('reason')}",
        "ping": f"Test from Swarmboard board {event.get('board')}: this webhook works",
    }
    if kind in said:
        return said[kind]
    return f"{who}: {kind}" + (f" on {named}" if card else "") + f" ({event.get('board')})"


def _percent(value) -> str:
    return f"{max(value, 0):.0f}%" if isinstance(value, int | float) else "?"


def links_of(event: dict) -> list[tuple[str, str]]:
    """(label, absolute URL): the card, and the swarm room (or the retrospective) for its
    events."""
    found = []
    if event.get("card"):
        found.append((f"Open {event['card']}", link(f"/cards/{event['card']}")))
    swarm = (event.get("data") or {}).get("swarm")
    if event["type"].startswith("swarm.") and swarm:
        found.append(("Open the swarm room", link(f"/swarms/{swarm}")))
    retro = (event.get("data") or {}).get("retro")
    if event["type"].startswith("retro.") and retro:
        found.append(("Open the retrospective", link(f"/retrospectives/{retro}")))
    if not found:
        found.append((f"Open board {event['board']}", link(f"/boards/{event['board']}")))
    return found


def _escape_slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chat_message(fmt: str, event: dict, title: str | None) -> dict:
    """The body a chat's incoming webhook takes for this event."""
    text, links = sentence(event, title), links_of(event)
    colour = ALERT_COLOUR if event["type"] in ALERTS else CALM_COLOUR
    if fmt == "slack":
        mrkdwn = _escape_slack(text) + "  " + "  ".join(
            f"<{url}|{_escape_slack(label)}>" for label, url in links)
        return {"text": mrkdwn, "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"Swarmboard · {event['board']} · {event['type']}"}]},
        ]}
    if fmt == "mattermost":
        markdown = text + "  " + "  ".join(f"[{label}]({url})" for label, url in links)
        return {"text": markdown, "username": "Swarmboard", "attachments": [
            {"fallback": text, "color": colour, "text": markdown,
             "footer": f"{event['board']} · {event['type']}"}]}
    if fmt == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": text[:200],
            "themeColor": colour.lstrip("#"),
            "title": f"Swarmboard · {event['board']}",
            "text": text,
            "potentialAction": [
                {"@type": "OpenUri", "name": label, "targets": [{"os": "default", "uri": url}]}
                for label, url in links
            ],
        }
    raise ValueError(f"Unknown chat format {fmt!r}")
