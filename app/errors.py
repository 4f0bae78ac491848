"""Domain errors raised by the service layer; every entry point maps them to its own response."""


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class StaleVersion(DomainError):
    """The client edited an older version of the card than the one stored."""

    status = 409
    code = "stale_version"

    def __init__(self, message: str, card):
        super().__init__(message)
        self.card = card


class WipLimitReached(DomainError):
    """A move or create would pass a hard limit; `needs_reason` when a reason would override it."""

    status = 422
    code = "wip_limit"

    def __init__(self, message: str, needs_reason: bool = False):
        super().__init__(message, needs_reason=needs_reason)
        self.needs_reason = needs_reason


class ErrorBudgetLow(WipLimitReached):
    """Feature work entering the commitment point while an error budget is low: refused
    unless the mover gives a reason (app/slos), like a hard-with-override WIP limit."""

    code = "error_budget"


class SwarmStillOpen(Invalid):
    """Finishing or archiving a card whose swarm is still open: say what becomes of the swarm
    (`resolve`, `cancel` or `keep`)."""

    code = "swarm_open"
