"""Checks on user input shared by every command; each failure is an Invalid with a sentence."""

from datetime import date

from app.errors import Invalid


def clean_text(value, what: str, max_length: int, *, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else None
    if text is None:
        raise Invalid(f"{what} must be text.")
    if required and not text:
        raise Invalid(f"{what} cannot be empty.")
    if len(text) > max_length:
        raise Invalid(f"{what} is too long ({len(text)} characters; at most {max_length}).")
    if "\x00" in text:  # sockets and commands too, not only requests (app/web refuse_nul…)
        raise Invalid(f"{what} holds a NUL character (\\0), which cannot be stored.")
    return text


def choice(value, allowed, what: str) -> str:
    if value not in allowed:
        raise Invalid(f"{what} must be one of: {', '.join(allowed)} (got {value!r}).")
    return value


def optional_limit(value, what: str = "WIP limit") -> int | None:
    """None or '' means no limit; otherwise a whole number of at least 1."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(f"{what} must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{what} must be a whole number (got {value!r}).") from None
    if isinstance(value, float) and value != number:
        raise Invalid(f"{what} must be a whole number (got {value!r}).")
    if number < 1:
        raise Invalid(f"{what} must be at least 1, or empty for no limit.")
    if number > 999:
        raise Invalid(f"{what} must be at most 999.")
    return number


def optional_date(value, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"{what} must be a date like 2026-12-31 (got {value!r}).") from None


def word_list(value, what: str, *, max_items: int = 20, max_length: int = 40) -> list[str]:
    """Tags and skills: a list or a comma-separated string; trimmed, lower-case, de-duplicated."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise Invalid(f"{what} must be a list or comma-separated text.")
    words: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise Invalid(f"{what} must be text.")
        word = item.strip().lower()
        if len(word) > max_length:
            raise Invalid(f"Each of {what.lower()} must be at most {max_length} characters.")
        if word and word not in words:
            words.append(word)
    if len(words) > max_items:
        raise Invalid(f"At most {max_items} {what.lower()} per card.")
    return words


def whole_number(value, what: str, *, minimum: int = 0, maximum: int = 10**9) -> int:
    if isinstance(value, bool):
        raise Invalid(f"{what} must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{what} must be a whole number (got {value!r}).") from None
    if not minimum <= number <= maximum:
        raise Invalid(f"{what} must be between {minimum} and {maximum}.")
    return number
