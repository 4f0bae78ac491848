"""Outgoing webhooks: each board event, as the event contract gives it, POSTed and signed to the
URLs a board's owners chose, in order, driven from the event log with a cursor per webhook."""
