"""Reaching people: an inbox per person (with a live bell), @mentions, watching, reminders.

Notifications are written from the event log, in the transaction that records the events
(app/events/hooks.py `committing`), so a change and the word of it are stored together; the
bell's counts are pushed to each person's room once the commit has succeeded."""
