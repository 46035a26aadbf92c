"""Command line: run a simulated PBX, or drive a running one through its control API."""

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import inspect
import json
import os
from pathlib import Path
import sys
import urllib.error

from . import (
    ControlAPI,
    ControlClient,
    ControlError,
    SimulatedPBX,
    SmsOutcome,
    generate_certificate,
    load_or_create_certificate,
)
from .pbx import DEFAULT_API_VERSIONS, REPORT_METHODS, Json
from .scenarios import CALL_FLOWS, STAYS, Scenario, inbound_answered
from .tcp_events import LoginAnswer

# Where `scripts/develop` runs its simulator; YEASTAR_SIMULATOR_URL points elsewhere.
DEFAULT_URL = os.environ.get("YEASTAR_SIMULATOR_URL", "https://127.0.0.1:18088")
FAULTS = {
    "down": "seconds the PBX stops answering (then it listens again)",
    "slow": "seconds each answer waits (0: off)",
    "garbage": "true: answers that are no JSON; false: off",
    "errno": 'the next request refused with this errno: 10008, or {"errno":'
    ' "10008", "endpoint": "call/dial"}',
}
DEFAULT_TCP_PORT = 8333  # seen in third-party code; the documents give none


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
    serve.add_argument(
        "--report-method",
        choices=REPORT_METHODS,
        default="http",
        help="post reports over HTTP, or write them to the event port's TCP clients",
    )
    serve.add_argument(
        "--tcp-port",
        type=int,
        help=f"the event port (default: {DEFAULT_TCP_PORT} with --report-method tcp,"
        " else a free one)",
    )
    serve.add_argument(
        "--tcp-answer",
        choices=[str(answer) for answer in LoginAnswer],
        default=str(LoginAnswer.AMI),
        help="how the event port answers a login (the documents do not say)",
    )
    play = commands.add_parser(
        "play",
        help="play a scenario",
        epilog=_scenarios_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    play.add_argument("scenario", choices=[str(s) for s in Scenario])
    play.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    fault = commands.add_parser(
        "fault",
        help="switch a fault",
        epilog="faults and their values:\n"
        + "\n".join(f"  {name:8} {meaning}" for name, meaning in FAULTS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fault.add_argument("name", choices=list(FAULTS))
    fault.add_argument("value")
    trunk = commands.add_parser("trunk", help="change a trunk's status")
    trunk.add_argument("name")
    trunk.add_argument("status")
    add_trunk = commands.add_parser("add-trunk", help="create a trunk (reported)")
    add_trunk.add_argument("name")
    add_trunk.add_argument("type", help="SIP, IAX, FXO, BRI, E1, GSM...")
    add_trunk.add_argument("--status", default="Registered")
    add_trunk.add_argument("--port", default="", help="a hardware trunk's port")
    delete_trunk = commands.add_parser("delete-trunk", help="delete a trunk (reported)")
    delete_trunk.add_argument("name")
    extension_settings = commands.add_parser(
        "extension-settings",
        help="change an extension's settings as the PBX's administrator"
        " (extension/update fields: dnd=on, alwaysforward=on, atransferto=Voicemail...)",
    )
    extension_settings.add_argument("number")
    extension_settings.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE"
    )
    phone = commands.add_parser("phone", help="pick up or put down a phone")
    phone.add_argument("number")
    phone.add_argument("action", choices=["pick_up", "hang_up"])
    settings = commands.add_parser(
        "settings",
        help="change settings (report_method, inbound_call_control, recording,"
        " csv_header...)",
    )
    settings.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    sms = commands.add_parser("sms", help="list the text messages sent")
    sms.add_argument(
        "--next",
        choices=[str(outcome) for outcome in SmsOutcome],
        help="first set what the PBX reports about the next message (silent: nothing)",
    )
    reboot = commands.add_parser("reboot", help="reboot the PBX")
    state = commands.add_parser("state", help="show the PBX's state")
    records = commands.add_parser(
        "records", help="list the call records and the recordings"
    )
    delete = commands.add_parser("delete-recording", help="delete a recording")
    delete.add_argument("name")
    for command in (
        play,
        fault,
        trunk,
        add_trunk,
        delete_trunk,
        extension_settings,
        phone,
        settings,
        reboot,
        state,
        records,
        delete,
        sms,
    ):
        command.add_argument(
            "--url",
            default=DEFAULT_URL,
            help="the simulator's base URL (default: $YEASTAR_SIMULATOR_URL, else"
            " scripts/develop's https://127.0.0.1:18088)",
        )
    return parser


def _scenarios_help() -> str:
    """List each scenario with the parameters (--param KEY=VALUE) it takes."""
    flows = {
        **{str(scenario): flow for scenario, flow in CALL_FLOWS.items()},
        str(Scenario.REBOOT_MID_CALL): inbound_answered,
    }
    lines = ["scenarios and their parameters (--param KEY=VALUE):"]
    for scenario in Scenario:
        if (flow := flows.get(str(scenario))) is not None:
            params = [
                f"{name}={param.default}"
                for name, param in inspect.signature(flow).parameters.items()
                if param.kind is param.KEYWORD_ONLY and name != "stay"
            ]
            if stays := STAYS.get(scenario):
                params.append(f"stay={'|'.join(stays)}")
        elif scenario is Scenario.DOOR_STATION:
            params = ["door=1000", "number=<the inbound number>"]
        else:
            params = []
        lines.append(f"  {scenario:16} {' '.join(params) or '(none)'}")
    return "\n".join(lines)


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
        report_method=args.report_method,
        tcp_port=_tcp_port(args),
        tcp_answer=LoginAnswer(args.tcp_answer),
    )
    pbx.extend_app(ControlAPI(pbx).install)
    async with pbx:
        print(pbx.base_url, flush=True)
        if certificate is not None:
            print(f"sha256 fingerprint: {certificate.fingerprint}", flush=True)
        print(f"event port: {pbx.tcp_port}", flush=True)
        await asyncio.Event().wait()


def _tcp_port(args: argparse.Namespace) -> int:
    """Return the event port: as given, else the usual one for TCP reports, else any."""
    if args.tcp_port is not None:
        return int(args.tcp_port)
    return DEFAULT_TCP_PORT if args.report_method == "tcp" else 0


def _value(text: str) -> object:
    """Read a fault value as JSON (30, 1.5, true), else as a plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _params(pairs: list[str]) -> dict[str, str]:
    """Read ``KEY=VALUE`` arguments."""
    return dict(pair.split("=", 1) for pair in pairs)


def _control(args: argparse.Namespace) -> int:
    """Run a control subcommand, print the JSON answer and return an exit status."""
    client = ControlClient(args.url)
    answer: Json
    try:
        if args.command == "state":
            answer = client.state()
        elif args.command == "play":
            answer = {"reports": client.play(args.scenario, **_params(args.param))}
        elif args.command == "fault":
            answer = client.fault(args.name, _value(args.value))
        elif args.command == "trunk":
            answer = client.trunk(args.name, args.status)
        elif args.command == "add-trunk":
            answer = client.add_trunk(
                args.name, args.type, status=args.status, port=args.port
            )
        elif args.command == "delete-trunk":
            answer = client.delete_trunk(args.name)
        elif args.command == "extension-settings":
            answer = client.extension_settings(args.number, **_params(args.param))
        elif args.command == "phone":
            answer = client.phone(args.number, args.action)
        elif args.command == "records":
            answer = client.records()
        elif args.command == "delete-recording":
            answer = client.delete_recording(args.name)
        elif args.command == "sms":
            answer = client.sms(args.next)
        elif args.command == "settings":
            answer = client.settings(
                **{key: _value(value) for key, value in _params(args.param).items()}
            )
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
