"""`python -m infra up|down|status [s3|kafka|es ...]`: the local stack from a shell.

`python -m infra compose-template` rewrites compose's index template from the image record.
"""

from __future__ import annotations

import argparse
import sys

from infra.processes import NotReady
from infra.schemas import compose_template_json
from infra.stack import SERVERS, LocalStack
from settings import PROJECT_ROOT, Settings

COMPOSE_TEMPLATE = PROJECT_ROOT / "infra" / "compose" / "elasticsearch" / "index_template.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra",
        description="Start, stop or inspect the local servers (all of them by default).",
    )
    parser.add_argument("action", choices=["up", "down", "status", "compose-template"])
    parser.add_argument("servers", nargs="*", metavar="{" + ",".join(SERVERS) + "}")
    args = parser.parse_args(argv)
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    if args.action == "compose-template":
        COMPOSE_TEMPLATE.write_text(compose_template_json())
        print(f"wrote {COMPOSE_TEMPLATE}")
        return 0
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
