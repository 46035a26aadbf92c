"""Command line: run a simulated PBX, or drive a running one through its control API."""

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import json
from pathlib import Path
import sys
import urllib.error

from . import (
    ControlAPI,
    ControlClient,
    ControlError,
    SimulatedPBX,
    generate_certificate,
    load_or_create_certificate,
)
from .pbx import DEFAULT_API_VERSIONS, Json
from .scenarios import Scenario

DEFAULT_URL = "http://127.0.0.1:8088"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args))
        return 0
    return _control(args)


def _parser() -> argparse.ArgumentParser:
    """Describe the subcommands."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a simulated PBX until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8088)
    serve.add_argument("--https", action="store_true", help="self-signed HTTPS")
    serve.add_argument(
        "--certificate",
        type=Path,
        metavar="PEM",
        help="with --https: keep the certificate and its key in this file (made if"
        " missing), so that the certificate Home Assistant pinned stays the same",
    )
    serve.add_argument("--username", default="api")
    serve.add_argument("--password", default="password")
    serve.add_argument("--serial", default="369364835218")
    serve.add_argument("--model", default="Yeastar S100")
    serve.add_argument(
        "--api-version",
        action="append",
        dest="api_versions",
        help="an API version to serve (repeat it; default: all three)",
    )
    play = commands.add_parser("play", help="play a scenario")
    play.add_argument("scenario", choices=[str(s) for s in Scenario])
    play.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    fault = commands.add_parser("fault", help="switch a fault (down takes seconds)")
    fault.add_argument("name", choices=["down", "slow", "garbage"])
    fault.add_argument("value")
    commands.add_parser("reboot", help="reboot the PBX")
    commands.add_parser("state", help="show the PBX's state")
    for command in (play, fault, commands.choices["reboot"], commands.choices["state"]):
        command.add_argument(
            "--url", default=DEFAULT_URL, help="the simulator's base URL"
        )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    """Run a PBX with its control API until cancelled (Ctrl-C)."""
    certificate = None
    if args.https:
        certificate = (
            load_or_create_certificate(args.certificate)
            if args.certificate is not None
            else generate_certificate()
        )
    pbx = SimulatedPBX(
        username=args.username,
        password=args.password,
        serial=args.serial,
        model=args.model,
        api_versions=args.api_versions or DEFAULT_API_VERSIONS,
        host=args.host,
        port=args.port,
        certificate=certificate,
    )
    pbx.extend_app(ControlAPI(pbx).install)
    async with pbx:
        print(pbx.base_url, flush=True)
        if certificate is not None:
            print(f"sha256 fingerprint: {certificate.fingerprint}", flush=True)
        await asyncio.Event().wait()


def _value(text: str) -> object:
    """Read a fault value as JSON (30, 1.5, true), else as a plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _control(args: argparse.Namespace) -> int:
    """Run a control subcommand, print the JSON answer and return an exit status."""
    client = ControlClient(args.url)
    answer: Json
    try:
        if args.command == "state":
            answer = client.state()
        elif args.command == "play":
            params = dict(param.split("=", 1) for param in args.param)
            answer = {"reports": client.play(args.scenario, **params)}
        elif args.command == "fault":
            answer = client.fault(args.name, _value(args.value))
        else:
            answer = client.reboot()
    except ControlError as err:
        print(err, file=sys.stderr)
        return 1
    except urllib.error.URLError as err:
        print(f"cannot reach {args.url}: {err.reason}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
