"""`python -m streaming`: run the streaming job on the topic, dataset and index of the Settings."""

from __future__ import annotations

import argparse
import sys

from adapters.json_logs import log_process_as_json
from settings import Settings
from streaming.job import MAX_OFFSETS_PER_TRIGGER, run_stream


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streaming", description=__doc__)
    parser.add_argument(
        "--max-offsets-per-trigger", type=int, default=MAX_OFFSETS_PER_TRIGGER,
        help="messages per micro-batch at most",
    )
    parser.add_argument(
        "--available-now", action="store_true",
        help="process what the topic holds now, then stop (instead of running every 2 s)",
    )
    args = parser.parse_args(argv)
    log_process_as_json()
    run_stream(
        Settings.from_env(),
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        trigger={"availableNow": True} if args.available_now else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
