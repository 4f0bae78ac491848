"""Service level objectives and their error budgets (HVIT): how much unreliability a board's
service may still spend, read from its own event log."""
