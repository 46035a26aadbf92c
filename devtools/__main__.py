"""Command line of the development tools, for ``scripts/develop``."""

import argparse
from collections.abc import Sequence
from pathlib import Path
import sys

from simulator import ControlError

from .clients import ApiError, HassClient, Owner, wait_for
from .config_dir import check_port_free, prepare_config_dir
from .demo import run


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; errors are printed as one line, not as a traceback."""
    parser = argparse.ArgumentParser(prog="python -m devtools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser(
        "prepare", help="link the integration into a config folder, set the HTTP port"
    )
    prepare.add_argument("config_dir", type=Path)
    prepare.add_argument("--host", required=True)
    prepare.add_argument("--port", type=int, required=True)
    prepare.add_argument(
        "--check-free",
        type=int,
        action="append",
        default=[],
        metavar="PORT",
        help="also fail when this loopback port is in use (repeat it)",
    )
    wait = commands.add_parser("wait", help="wait until Home Assistant answers")
    wait.add_argument("--port", type=int, required=True)
    wait.add_argument("--timeout", type=float, default=180)
    demo = commands.add_parser(
        "demo", help="onboard, add the simulated PBX and play calls until stopped"
    )
    demo.add_argument("--hass-port", type=int, required=True)
    demo.add_argument("--user", required=True)
    demo.add_argument("--password", required=True)
    demo.add_argument("--pbx-port", type=int, required=True)
    demo.add_argument("--pbx-password", required=True)
    demo.add_argument("--interval", type=float, default=8.0)
    demo.add_argument(
        "--tcp-port",
        type=int,
        help="the simulator's event port, when it reports over TCP",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            check_port_free(args.host, args.port)
            for port in args.check_free:
                check_port_free("127.0.0.1", port)
            prepare_config_dir(args.config_dir, host=args.host, port=args.port)
        elif args.command == "wait":
            hass = HassClient(f"http://127.0.0.1:{args.port}")
            wait_for(
                lambda: hass.is_up() or None,
                timeout=args.timeout,
                what="Home Assistant to answer",
            )
        else:
            run(
                hass_port=args.hass_port,
                owner=Owner("Developer", args.user, args.password),
                pbx_port=args.pbx_port,
                pbx_password=args.pbx_password,
                interval=args.interval,
                tcp_port=args.tcp_port,
            )
    except KeyboardInterrupt:
        return 130
    except (ApiError, ControlError, OSError, RuntimeError) as err:
        print(f"devtools {args.command}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
