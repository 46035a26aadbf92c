"""Run every benchmark in one Home Assistant, print the table, optionally record it."""

import argparse
import asyncio
from collections.abc import AsyncIterator, Sequence
import contextlib
import datetime as dt
import json
import os
from pathlib import Path
import shlex
import sys
import tempfile
import time

from homeassistant.core import HomeAssistant

from custom_components.yeastar_s_series.const import (
    DEFAULT_HEARTBEAT_INTERVAL,
    MIN_HEARTBEAT_INTERVAL,
)

from .fleet import (
    measure_idle,
    measure_single_setup,
    measure_spread,
    set_heartbeat_interval,
    set_up_fleet,
    simulated_hour,
    start_fleet,
)
from .home import (
    BenchPBX,
    Entry,
    make_entry,
    make_pbx,
    quiet_logging,
    register_baseline,
    register_floor,
    start_home_assistant,
)
from .loadgen import LoadGenerator
from .markdown import render_markdown, write_performance_doc
from .recorder_memory import RecorderMemory, RecorderMemoryResults, start_recorder
from .recovery import RecoveryResults, measure_recovery
from .results import Machine, Results
from .targets import evaluate
from .tcp_load import TcpBench, TcpReportResults
from .webhook_load import ReportBench

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure the integration against a baseline (empty) and a floor "
        "(one event, one event entity) webhook in one Home Assistant (see docs/performance.md).",
    )
    parser.add_argument(
        "--reports", type=int, default=10_000, help="reports per side for throughput"
    )
    parser.add_argument(
        "--rounds", type=int, default=12, help="rounds per phase (one batch per side)"
    )
    parser.add_argument(
        "--paced-rate", type=float, default=200.0, help="reports/s of the latency phase"
    )
    parser.add_argument(
        "--paced-reports",
        type=int,
        default=None,
        help="reports per side at the paced rate (default: 0.4 × reports)",
    )
    parser.add_argument(
        "--memory-reports",
        type=int,
        default=100_000,
        help="reports for the memory phase",
    )
    parser.add_argument(
        "--memory-samples",
        type=int,
        default=10,
        help="RSS readings during the memory phase",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=30.0,
        help="seconds the PBX is unreachable in the recovery phase",
    )
    parser.add_argument(
        "--recorder-reports",
        type=int,
        default=20_000,
        help="reports of the flood with the recorder on",
    )
    parser.add_argument(
        "--recorder-rate",
        type=float,
        default=250.0,
        help="reports/s of the floods with the recorder on",
    )
    parser.add_argument(
        "--recorder-settle",
        type=float,
        default=15.0,
        help="seconds after a flood before RSS (or tracemalloc) is read again",
    )
    parser.add_argument(
        "--recorder-traced",
        type=int,
        default=2_500,
        help="reports of each of the two floods under tracemalloc",
    )
    parser.add_argument(
        "--pbxs", type=int, default=20, help="PBX entries in one Home Assistant"
    )
    parser.add_argument(
        "--setup-repeats",
        type=int,
        default=6,
        help="set-ups of a single entry (the first is cold)",
    )
    parser.add_argument(
        "--spread-interval",
        type=int,
        default=MIN_HEARTBEAT_INTERVAL,
        help="heartbeat interval (s) while watching the spread",
    )
    parser.add_argument(
        "--spread-intervals",
        type=int,
        default=2,
        help="intervals to watch, after the two that set the phases",
    )
    parser.add_argument(
        "--idle-interval",
        type=int,
        action="append",
        dest="idle_intervals",
        metavar="SECONDS",
        help="heartbeat interval of a simulated idle hour (repeat it; default: "
        f"{MIN_HEARTBEAT_INTERVAL}, {DEFAULT_HEARTBEAT_INTERVAL} and 60)",
    )
    parser.add_argument(
        "--note",
        default=None,
        help="a note on the run for its section (e.g. what else ran on the machine)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"replace the run in {DOC.relative_to(ROOT)} with this one",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the results as JSON here"
    )
    args = parser.parse_args(argv)
    if args.idle_intervals is None:
        args.idle_intervals = sorted(
            {MIN_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL, 60}
        )
    if args.paced_reports is None:
        args.paced_reports = max(args.rounds, args.reports * 2 // 5)
    if args.setup_repeats < 2:
        parser.error("--setup-repeats must be at least 2 (the first set-up is cold)")
    return args


async def run(args: argparse.Namespace, command: str) -> Results:
    """Start Home Assistant and the load generator, then run every phase in turn."""
    started = time.perf_counter()
    machine = Machine.detect()
    with tempfile.TemporaryDirectory(prefix="yeastar-bench-") as config_dir:
        hass, port = await start_home_assistant(Path(config_dir))
        loadgen = LoadGenerator()
        await loadgen.start()
        try:
            return await _phases(
                hass,
                config_dir=Path(config_dir),
                machine=machine,
                port=port,
                loadgen=loadgen,
                args=args,
                command=command,
                started=started,
            )
        finally:
            _say("stopping Home Assistant")
            await loadgen.stop()
            await hass.async_stop()


async def _phases(
    hass: HomeAssistant,
    *,
    config_dir: Path,
    machine: Machine,
    port: int,
    loadgen: LoadGenerator,
    args: argparse.Namespace,
    command: str,
    started: float,
) -> Results:
    register_baseline(hass)
    await register_floor(hass)
    _say("set-up of one entry")
    setup = await measure_single_setup(hass, port, args.setup_repeats, first_index=900)

    pbx = make_pbx(0)
    await pbx.start()
    try:
        entry = make_entry(pbx, port)
        await hass.config_entries.async_add(entry)
        await hass.async_block_till_done()
        bench = ReportBench(hass, port, Entry(entry, pbx), loadgen)
        _say(f"reports: {args.reports:,} per side, saturated, then paced")
        reports = await bench.run(
            args.reports, args.rounds, args.paced_rate, args.paced_reports
        )
        _say(f"memory: {args.memory_reports:,} reports")
        memory = await bench.memory(args.memory_reports, args.memory_samples)
        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await pbx.stop()

    _say(f"TCP reports: {args.reports:,}, saturated, then paced")
    tcp = await _tcp_reports(hass, port, args)
    _say(f"recovery: the PBX unreachable for {args.outage:g} s")
    recovery = await _recovery(hass, port, args.outage)

    pbxs = await start_fleet(args.pbxs, first_index=1)
    try:
        harness_cpu = {}
        for interval in args.idle_intervals:
            _say(f"idle: a simulated hour in {interval} s steps without entries")
            harness_cpu[interval], _ = await simulated_hour(hass, pbxs, interval)
        _say(f"set-up of {args.pbxs} entries at once")
        entries = await set_up_fleet(
            hass, port, pbxs, setup, heartbeat_interval=args.spread_interval
        )
        _say(
            f"heartbeat spread: {args.spread_intervals + 2} × {args.spread_interval} s "
            "in real time"
        )
        spread = await measure_spread(
            entries, args.spread_interval, args.spread_intervals
        )
        idle = []
        for interval in args.idle_intervals:
            _say(
                f"idle: a simulated hour with the entries, heartbeat every {interval} s"
            )
            await set_heartbeat_interval(hass, entries, interval)
            idle.append(await measure_idle(hass, pbxs, interval, harness_cpu[interval]))
        _say("unloading the entries")
        for fleet_entry in entries:
            await hass.config_entries.async_unload(fleet_entry.entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await asyncio.gather(*(pbx.stop() for pbx in pbxs))

    _say(
        f"memory with the recorder: {args.recorder_reports:,} reports at "
        f"{args.recorder_rate:g}/s, then {args.recorder_traced:,} traced"
    )
    recorder = await _recorder_memory(hass, port, loadgen, config_dir, args)

    machine.load_after = os.getloadavg()
    return Results(
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command=command,
        note=args.note,
        machine=machine,
        duration_s=time.perf_counter() - started,
        reports=reports,
        memory=memory,
        setup=setup,
        idle=idle,
        spread=spread,
        tcp=tcp,
        recovery=recovery,
        recorder=recorder,
        targets=evaluate(reports, memory, idle, tcp, recovery),
    )


@contextlib.asynccontextmanager
async def _loaded(
    hass: HomeAssistant, pbx: BenchPBX, port: int, heartbeat_interval: int | None = None
) -> AsyncIterator[Entry]:
    """Start the PBX and load an entry for it; remove both afterwards."""
    await pbx.start()
    try:
        entry = make_entry(pbx, port, heartbeat_interval=heartbeat_interval)
        await hass.config_entries.async_add(entry)
        await hass.async_block_till_done()
        yield Entry(entry, pbx)
        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await pbx.stop()


async def _tcp_reports(
    hass: HomeAssistant, port: int, args: argparse.Namespace
) -> TcpReportResults:
    """Run the report phases again, for an entry whose PBX reports over TCP."""
    async with _loaded(hass, make_pbx(700, report_method="tcp"), port) as entry:
        return await TcpBench(hass, entry).run(
            args.reports, args.rounds, args.paced_rate, args.paced_reports
        )


async def _recovery(hass: HomeAssistant, port: int, outage: float) -> RecoveryResults:
    """Time an outage of an entry at the shortest heartbeat (the retries do not depend on it)."""
    interval = MIN_HEARTBEAT_INTERVAL
    async with _loaded(hass, make_pbx(701), port, interval) as entry:
        return await measure_recovery(hass, entry, outage, interval)


async def _recorder_memory(
    hass: HomeAssistant,
    port: int,
    loadgen: LoadGenerator,
    config_dir: Path,
    args: argparse.Namespace,
) -> RecorderMemoryResults:
    """Last, as the recorder stays on once set up: a flood with every state recorded."""
    await start_recorder(hass, config_dir)
    async with _loaded(hass, make_pbx(702), port) as entry:
        return await RecorderMemory(hass, port, entry, loadgen, config_dir).run(
            args.recorder_reports,
            args.recorder_rate,
            args.recorder_settle,
            args.recorder_traced,
        )


_T0 = time.perf_counter()


def _say(text: str) -> None:
    """Progress on stderr, so stdout is only the table."""
    print(
        f"bench [{time.perf_counter() - _T0:5.1f} s]: {text}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 even when a target is missed (the table says so)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    quiet_logging()
    command = shlex.join(["scripts/bench", *argv])
    results = asyncio.run(run(args, command))
    table = render_markdown(results)
    print(table)
    if args.write:
        write_performance_doc(DOC, table)
        _say(f"written to {DOC.relative_to(ROOT)}")
    if args.json is not None:
        args.json.write_text(json.dumps(results.as_json(), indent=2) + "\n")
    return 0
