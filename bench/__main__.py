"""`python -m bench`: run every benchmark and print the figures against their targets."""

import sys
import time

from bench import (
    board_page,
    experts,
    live,
    metrics,
    moves,
    notifications,
    print_table,
    slos,
    standup,
    swarm_room,
    wall_page,
    webhooks,
)


def main() -> int:
    started = time.perf_counter()
    figures = []
    for benchmark in (board_page, wall_page, moves, metrics, experts, live, standup, swarm_room,
                      webhooks, notifications, slos):
        print(f"running {benchmark.__name__} ...", file=sys.stderr, flush=True)
        figures.extend(benchmark.run())
    print_table(figures)
    print(f"({time.perf_counter() - started:.1f} s in all; targets are guides, not tests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
