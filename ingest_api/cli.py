"""`python -m ingest_api [serve]` serves the API; `python -m ingest_api tokens ...` manages tokens.

    python -m ingest_api                          gunicorn on Settings.api_host:api_internal_port
    python -m ingest_api tokens issue --device D  a new token for D (replacing D's old one),
                                                  printed once, alone on stdout
    python -m ingest_api tokens revoke D          D's token stops working (403)
    python -m ingest_api tokens list              devices with issue and revoke times, no tokens

The tokens commands work on Settings.api_token_store, the file the running API reads: a token
issued or revoked there counts for every worker at once, with no restart.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from ingest_api.auth.store import TokenStore
from ingest_api.server import main as serve
from settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "tokens":
        serve()
        return 0
    store = TokenStore.from_settings(Settings.from_env())
    try:
        return {"issue": issue, "revoke": revoke, "list": list_tokens}[args.action](store, args)
    except (ValueError, sqlite3.Error, OSError) as error:
        print(f"tokens {args.action}: {error}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest_api", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API with gunicorn (the default)")
    tokens = commands.add_parser("tokens", help="issue, revoke and list device tokens")
    actions = tokens.add_subparsers(dest="action", required=True)
    issue_parser = actions.add_parser("issue", help="print a new token for a device, once")
    issue_parser.add_argument("--device", required=True, help="the device's name, e.g. phone-17")
    revoke_parser = actions.add_parser("revoke", help="revoke a device's token")
    revoke_parser.add_argument("device")
    actions.add_parser("list", help="devices, issue and revoke times (never the tokens)")
    return parser


def issue(store: TokenStore, args) -> int:
    token = store.issue(args.device)
    print(token, flush=True)
    print(
        f"tokens issue: a new token for device {args.device!r}, shown only this once "
        f"(the store at {store.path} keeps its sha256); any earlier token of it is revoked",
        file=sys.stderr,
    )
    return 0


def revoke(store: TokenStore, args) -> int:
    if store.revoke(args.device) == 0:
        print(f"tokens revoke: device {args.device!r} has no active token", file=sys.stderr)
        return 1
    print(f"tokens revoke: the token of device {args.device!r} is revoked", file=sys.stderr)
    return 0


def list_tokens(store: TokenStore, args) -> int:
    rows = [("device", "issued", "revoked")] + [
        (token.device, token.issued_at, token.revoked_at or "-") for token in store.tokens()
    ]
    width = max(len(device) for device, _, _ in rows)
    for device, issued, revoked in rows:
        print(f"{device:<{width}}  {issued:<25}  {revoked}")
    return 0
