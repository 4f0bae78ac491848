"""Secret tokens (API tokens, wall links, webhook and andon hooks, invitations, reset links) are
kept only as a digest: a stolen database gives nothing that opens anything."""

import hashlib


def digest(token: str) -> str:
    """The SHA-256 of a token, as stored and as looked up."""
    return hashlib.sha256(token.encode()).hexdigest()
