"""`python -m sequin_admin.sandbox serve|seed|fault|reset`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from types import FrameType
from typing import Any

from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sandbox.faults import FAULT_KINDS
from sequin_admin.sandbox.profiles import PROFILES
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sandbox.store import Store

DEFAULT_DB = "var/sandbox.sqlite3"
DEFAULT_PORT = 8765
CONTROL_TIMEOUT_SECONDS = 10.0


def _default_token() -> str:
    return os.environ.get("SANDBOX_TOKEN") or DEFAULT_TOKEN


def _default_port() -> int:
    """$SANDBOX_PORT, as `make run` and the admin's settings read it."""
    value = os.environ.get("SANDBOX_PORT", "").strip()
    return int(value) if value.isdigit() else DEFAULT_PORT


def _default_url() -> str:
    return f"http://127.0.0.1:{_default_port()}"


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server = SandboxServer(
        db_path=args.db, token=args.token, host=args.host, port=args.port, profile=args.profile
    )
    server.start()
    print(
        f"Sequin sandbox on {server.url} (db {args.db}, profile {args.profile}); Ctrl-C stops it",
        flush=True,
    )
    try:
        # A bounded wait keeps the main thread responsive to signals on every platform.
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    print("Sequin sandbox stopped", flush=True)
    return 0


def _seed(args: argparse.Namespace) -> int:
    store = Store(args.db)
    try:
        if args.reset:
            store.reset()
            verb = "reseeded"
        else:
            verb = "seeded" if store.seed_if_empty() else "already seeded, left as is"
        count = store.count_records()
    finally:
        store.close()
    print(f"{args.db}: {verb}; {count} records")
    return 0


def _control(url: str, token: str, method: str, path: str, payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    # The sandbox is local: never route its control calls through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=CONTROL_TIMEOUT_SECONDS) as response:
        return json.loads(response.read() or b"null")


def _fault(args: argparse.Namespace) -> int:
    if args.clear:
        method, payload = "DELETE", None
    elif args.kind:
        method = "POST"
        payload = {
            "kind": args.kind,
            "count": args.count,
            "latency_ms": args.latency_ms,
            "retry_after": args.retry_after,
            "status": args.status,
            "apply": args.apply,
            "match": args.match,
        }
    else:
        method, payload = "GET", None
    return _call_control(args, method, "/_sandbox/faults", payload)


def _reset(args: argparse.Namespace) -> int:
    return _call_control(args, "POST", "/_sandbox/reset", None)


def _call_control(args: argparse.Namespace, method: str, path: str, payload: Any) -> int:
    try:
        answer = _control(args.url, args.token, method, path, payload)
    except urllib.error.HTTPError as error:
        print(f"{error.code}: {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"cannot reach the sandbox at {args.url}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sequin_admin.sandbox", description="A stand-in for Sequin's HTTP API."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the sandbox API (seeds an empty db)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port", type=int, default=_default_port(), help="default: $SANDBOX_PORT, else 8765"
    )
    serve.add_argument("--db", default=DEFAULT_DB)
    serve.add_argument("--token", default=_default_token(), help="default: $SANDBOX_TOKEN")
    serve.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="docs",
        help="docs: answers shaped as Sequin's docs show them; real: as a live Sequin sent them",
    )
    serve.set_defaults(run=_serve)

    seed = commands.add_parser("seed", help="seed the demo data into an empty db")
    seed.add_argument("--db", default=DEFAULT_DB)
    seed.add_argument("--reset", action="store_true", help="wipe the db and seed it afresh")
    seed.set_defaults(run=_seed)

    for name, run, help_text in (
        ("fault", _fault, "switch a fault on (or --clear them) on a running sandbox"),
        ("reset", _reset, "restore a running sandbox's demo data and clear its faults"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument(
            "--url",
            default=_default_url(),
            help="the running sandbox; default: http://127.0.0.1:$SANDBOX_PORT "
            f"(now {_default_url()})",
        )
        sub.add_argument("--token", default=_default_token(), help="default: $SANDBOX_TOKEN")
        sub.set_defaults(run=run)
        if name == "fault":
            sub.add_argument("kind", nargs="?", choices=FAULT_KINDS)
            sub.add_argument("--clear", action="store_true", help="switch every fault off")
            sub.add_argument("--count", type=int, default=1, help="requests affected; 0: all")
            sub.add_argument("--latency-ms", type=int, default=0)
            sub.add_argument("--retry-after", type=int, default=1)
            sub.add_argument("--status", type=int, default=None)
            sub.add_argument(
                "--no-apply",
                dest="apply",
                action="store_false",
                help="a fault that writes, then misanswers (504, 500, drop, 502, 503, "
                "empty 200, 204) misanswers without writing",
            )
            sub.add_argument("--match", default="/v1/mutations/run", help="path prefix")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
