"""Stand-up mode: walk the board together, right to left, on every screen at once."""
