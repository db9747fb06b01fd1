"""`python -m infra up|down|status [s3|kafka|es ...]`: the local stack from a shell."""

from __future__ import annotations

import argparse
import sys

from infra.processes import NotReady
from infra.stack import SERVERS, LocalStack
from settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra",
        description="Start, stop or inspect the local servers (all of them by default).",
    )
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("servers", nargs="*", metavar="{" + ",".join(SERVERS) + "}")
    args = parser.parse_args(argv)
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    stack = LocalStack(Settings.from_env())
    servers = args.servers or None
    try:
        if args.action == "up":
            stack.up(servers)
        elif args.action == "down":
            stack.down(servers)
    except NotReady as error:
        print(error, file=sys.stderr)
        return 1
    for status in stack.status(servers):
        print(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
