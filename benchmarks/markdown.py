"""One run's results as a markdown section, and docs/performance.md's latest run."""

from pathlib import Path

from .results import Results
from .stats import Percentiles, median
from .webhook_load import GcPauses, LatencySet, ReportResults

# docs/performance.md: the prose above this line, the latest run below it.
MARKER = "<!-- the latest run, written by scripts/bench --write: everything below is replaced -->"


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _pct(p: Percentiles) -> str:
    return f"{_ms(p.p50)} / {_ms(p.p99)} / {_ms(p.max)}"


def _p99_ratio(integration: Percentiles, other: Percentiles) -> str:
    if not other.p99:
        return "—"
    return f"p99 × {integration.p99 / other.p99:.2f}"


def _latency_rows(label: str, latencies: LatencySet) -> list[str]:
    base = latencies.baseline_response
    response = latencies.integration_response
    event = latencies.integration_event
    state = latencies.integration_state
    floor_response = latencies.floor_response
    floor_event = latencies.floor_event
    floor_state = latencies.floor_state
    return [
        (
            f"| {label}: POST → 200 | {_pct(response)} | {_pct(base)} "
            f"| {_pct(floor_response)} | {_p99_ratio(response, base)} "
            f"| {_p99_ratio(response, floor_response)} |"
        ),
        (
            f"| {label}: POST → bus event (`yeastar_s_series_event`; floor "
            f"`bench_floor_event`) | {_pct(event)} | — | {_pct(floor_event)} | — "
            f"| {_p99_ratio(event, floor_event)} |"
        ),
        (
            f"| {label}: POST → state change (`event.*_calls`; floor `event.bench_floor`) "
            f"| {_pct(state)} | — | {_pct(floor_state)} | — "
            f"| {_p99_ratio(state, floor_state)} |"
        ),
    ]


def _rounds(rates: list[float]) -> str:
    return ", ".join(f"{x:,.0f}" for x in rates)


def render_markdown(results: Results) -> str:
    """One run as a markdown section (heading with the date)."""
    m = results.machine
    r = results.reports
    mem = results.memory
    s = results.setup
    idle = results.idle
    spread = results.spread
    minutes, seconds = divmod(round(results.duration_s), 60)
    lines = [
        f"## Run of {results.date}",
        "",
        f"- Command: `{results.command}` (took {minutes} min {seconds} s)",
        (
            f"- Machine: {m.nproc} CPUs ({m.cpu}), {m.ram_gib:.1f} GiB RAM, "
            f"Python {m.python}, Home Assistant {m.home_assistant}; load average (1, 5, "
            f"15 minutes, as `uptime` shows it) {_loads(m.load_before)} at the start, "
            f"{_loads(m.load_after)} at the end (other work on the machine shows here)"
        ),
        *([f"- Note: {results.note}"] if results.note else []),
        "",
        "### Targets",
        "",
        "| Target | Measured | Result |",
        "|---|---|---|",
        *(
            f"| {t.name} | {t.measured} | {'PASS' if t.passed else 'FAIL'} |"
            for t in results.targets
        ),
        "",
        "### Reports: throughput and latency",
        "",
        (
            f"{r.reports:,} reports per side in {r.rounds} rounds (one batch per side, "
            f"each round starting with the next side) over {r.concurrency} keep-alive "
            "connections (1 in 100 re-sent); rates are medians of the rounds, ratios are "
            "medians of the rounds' ratios. Latencies in ms (p50 / p99 / max), pooled over "
            "the rounds."
        ),
        "",
        "| | Integration | Baseline | Floor | vs baseline | vs floor |",
        "|---|---|---|---|---|---|",
        (
            f"| Reports per second (saturated) | {r.integration_rate:,.0f} | "
            f"{r.baseline_rate:,.0f} | {r.floor_rate:,.0f} | "
            f"{r.rate_ratio:.2f} (integration ÷ baseline) | "
            f"{r.floor_rate_ratio:.2f} (integration ÷ floor) |"
        ),
        (
            f"| Rounds (reports per second) | {_rounds(r.integration_rates)} "
            f"| {_rounds(r.baseline_rates)} | {_rounds(r.floor_rates)} | | |"
        ),
        (
            f"| Home Assistant's CPU per report (µs, median of the rounds) | "
            f"{median(r.integration_cpu_us):.0f} | {median(r.baseline_cpu_us):.0f} | "
            f"{median(r.floor_cpu_us):.0f} | {r.cpu_ratio:.2f} (baseline ÷ integration) | "
            f"{r.floor_cpu_ratio:.2f} (floor ÷ integration) |"
        ),
        *_latency_rows("Saturated", r.saturated),
        *_latency_rows(
            f"Paced, {r.paced_rate:,.0f}/s ({r.paced_reports:,} reports)", r.paced
        ),
        "",
        (
            f"Added latency (the later of the 200 and the state change, integration minus "
            f"floor): p99 paced {r.paced.added_p99_ms:+.2f} ms, saturated "
            f"{r.saturated.added_p99_ms:+.2f} ms; p50 paced {r.paced.added_p50_ms:+.2f} ms, "
            f"saturated {r.saturated.added_p50_ms:+.2f} ms. Delivery: {r.delivery.reports:,} unique "
            f"reports, {r.delivery.events_missing} missing, {r.delivery.events_repeated} "
            f"fired twice, {r.delivery.duplicates_dropped} of {r.delivery.resends} re-sent "
            f"copies dropped, {r.delivery.non_200} answers other than 200."
        ),
        "",
        _gc_line(r),
        "",
        "### Memory",
        "",
        "| Reports | Warm-up | RSS before | RSS after | Growth | Growth over the 2nd half |",
        "|---|---|---|---|---|---|",
        (
            f"| {mem.reports:,} | {mem.warmup:,} | {mem.rss_before_mb:.1f} MB | "
            f"{mem.rss_after_mb:.1f} MB | {mem.growth_mb:+.1f} MB | "
            f"{mem.second_half_growth_mb:+.1f} MB |"
        ),
        "",
        f"RSS at {len(mem.samples)} even steps through the reports: "
        + ", ".join(f"{rss:.1f}" for _, rss in mem.samples)
        + " MB.",
        "",
        *_tcp_lines(results),
        *_recorder_lines(results),
        *_recovery_lines(results),
        "### Set-up",
        "",
        "| | Value |",
        "|---|---|",
        (
            f"| One entry, the first (also sets up the integration and its platforms) | "
            f"{s.single_cold_ms:.0f} ms |"
        ),
        (
            f"| One entry, warm (median of {len(s.single_warm_ms)}) | "
            f"{s.single_warm_median_ms:.0f} ms |"
        ),
        f"| Requests the PBX saw for one set-up | {_requests(s.single_requests)} |",
        (
            f"| {s.fleet_pbxs} entries at once, total | {s.fleet_total_s:.2f} s "
            f"({s.fleet_loaded} loaded) |"
        ),
        (
            f"| Requests per PBX during that set-up | min {s.fleet_requests_min}, max "
            f"{s.fleet_requests_max} ({_requests(s.fleet_requests)}) |"
        ),
        "",
        "### Idle cost per PBX",
        "",
        (
            f"One simulated hour with {idle[0].pbxs} PBXs at each heartbeat interval "
            "below. CPU is the process's, minus the same hour without entries (the "
            "harness), and includes the simulated PBXs' side of each request."
        ),
        "",
        (
            "| Heartbeat interval | Requests per PBX per hour | CPU per PBX per hour | "
            f"Harness CPU ({idle[0].pbxs} PBXs, subtracted) |"
        ),
        "|---|---|---|---|",
        *(
            f"| {one.heartbeat_interval} s | "
            f"{_span(one.requests_per_pbx_hour_min, one.requests_per_pbx_hour_max)} "
            f"({_requests(one.requests_by_endpoint)}) | {one.cpu_s_per_pbx_hour:.3f} s | "
            f"{one.cpu_s_harness:.2f} s |"
            for one in idle
        ),
        "",
        "### Heartbeat spread",
        "",
        (
            f"The {spread.pbxs} entries above were set up at once with a "
            f"{spread.interval_s:g} s heartbeat (the shortest the options allow, to see "
            f"several intervals quickly) and, after the first two intervals, watched for "
            f"{spread.intervals} more in real time, at the PBXs."
        ),
        "",
        (
            f"- Heartbeats per PBX in those {spread.intervals} intervals: "
            f"{_span(min(spread.heartbeats_per_pbx, default=0), max(spread.heartbeats_per_pbx, default=0))}."
        ),
        (
            f"- Busiest second: {spread.busiest_second} heartbeats (evenly spread: "
            f"{spread.even_per_second:.2f} per second)."
        ),
        "- When they came in the first watched interval, s: "
        + ", ".join(f"{phase:.1f}" for phase in spread.phases_s)
        + ".",
        f"- {_spread_verdict(results)}",
        "",
    ]
    return "\n".join(lines)


def _gc_line(r: ReportResults) -> str:
    def _one(pauses: GcPauses) -> str:
        gen0, gen1, gen2 = pauses.by_generation
        return (
            f"{gen0 + gen1 + gen2} collections (generations 0/1/2: {gen0}/{gen1}/{gen2}), "
            f"{pauses.total_ms:.0f} ms in all, longest {pauses.longest_ms:.0f} ms"
        )

    return (
        "Garbage collector during the timed batches (a full collection runs before each "
        f"batch, untimed): integration {_one(r.gc_integration)}; baseline "
        f"{_one(r.gc_baseline)}; floor {_one(r.gc_floor)}."
    )


def _tcp_lines(results: Results) -> list[str]:
    r = results.reports
    tcp = results.tcp
    return [
        "### Reports over TCP",
        "",
        (
            f"The same reports written by a simulated PBX whose Report Method is TCP to "
            f"the event link Home Assistant keeps open: {tcp.reports:,} in {tcp.rounds} "
            f"rounds as fast as the link takes them, then {tcp.paced_reports:,} at "
            f"{tcp.paced_rate:,.0f}/s. The PBX runs in Home Assistant's process: latency "
            "is from its write, CPU includes its side. Beside it, the webhook's figures "
            "from the run above. Latencies in ms (p50 / p99 / max)."
        ),
        "",
        "| | TCP (event link) | Webhook (integration) |",
        "|---|---|---|",
        (
            f"| Reports per second (saturated, median of the rounds) | {tcp.rate:,.0f} "
            f"| {r.integration_rate:,.0f} |"
        ),
        f"| Rounds (reports per second) | {_rounds(tcp.rates)} | |",
        (
            f"| Home Assistant's CPU per report (µs, median of the rounds) | "
            f"{median(tcp.cpu_us):.0f} (simulator's writes included) | "
            f"{median(r.integration_cpu_us):.0f} |"
        ),
        (
            f"| Saturated: write (POST) → bus event | {_pct(tcp.saturated_event)} "
            f"| {_pct(r.saturated.integration_event)} |"
        ),
        (
            f"| Saturated: write (POST) → state change | {_pct(tcp.saturated_state)} "
            f"| {_pct(r.saturated.integration_state)} |"
        ),
        (
            f"| Paced, {tcp.paced_rate:,.0f}/s: write (POST) → bus event "
            f"| {_pct(tcp.paced_event)} | {_pct(r.paced.integration_event)} |"
        ),
        (
            f"| Paced, {tcp.paced_rate:,.0f}/s: write (POST) → state change "
            f"| {_pct(tcp.paced_state)} | {_pct(r.paced.integration_state)} |"
        ),
        "",
        (
            f"Delivery over TCP: {tcp.reports + tcp.paced_reports:,} reports, "
            f"{tcp.missing} missing, {tcp.repeated} fired twice."
        ),
        "",
    ]


def _recorder_lines(results: Results) -> list[str]:
    rec = results.recorder
    return [
        "### Memory with the recorder",
        "",
        (
            f"The recorder on (SQLite in the run's folder), {rec.reports:,} reports at "
            f"{rec.rate:g}/s after a warm-up (Home Assistant took {rec.achieved:,.0f}/s, "
            f"median of the quarters); RSS after each quarter of them and "
            f"{rec.settle_s:g} s after the last (the recorder's commits done)."
        ),
        "",
        "| Reports | RSS before | RSS after each quarter | RSS settled | Growth (settled) |",
        "|---|---|---|---|---|",
        (
            f"| {rec.reports:,} | {rec.rss_before_mb:.1f} MB | "
            + ", ".join(f"{rss:.1f}" for rss in rec.rss_steps_mb)
            + f" MB | {rec.rss_settled_mb:.1f} MB | {rec.growth_mb:+.1f} MB |"
        ),
        "",
        (
            f"The database then: {rec.db_mb:.1f} MB; rows "
            + ", ".join(f"{table} {rows:,}" for table, rows in rec.db_rows.items())
            + " (the warm-up's included)."
        ),
        "",
        (
            f"Then twice {rec.traced_reports:,} reports under tracemalloc (the first "
            "replaces what the caches held before tracing started; tracing slows Home "
            f"Assistant: the second took {rec.traced_achieved:,.0f}/s). Python's heap "
            f"peaked at {rec.peak_mib:.1f} MiB during the second flood (counted from "
            f"the start of tracing) and was {rec.current_mib:.1f} MiB {rec.settle_s:g} s "
            "after it. By the code that allocated it, what the two floods left "
            "allocated, and the second one's net growth:"
        ),
        "",
        "| Part | Left allocated | Net growth over the second flood |",
        "|---|---|---|",
        *(
            f"| {name} | {kib:,.0f} KiB | {rec.net_kib[name]:+,.0f} KiB |"
            for name, kib in rec.held_kib.items()
        ),
        "",
        "| Line that allocated | Part | Left allocated | Net growth |",
        "|---|---|---|---|",
        *(
            f"| `{line}` | {group} | {held:,.1f} KiB | {net:+,.1f} KiB |"
            for line, group, held, net in rec.top
        ),
        "",
    ]


def _recovery_lines(results: Results) -> list[str]:
    rec = results.recovery
    return [
        "### Recovery",
        "",
        (
            f"One entry (heartbeat every {rec.heartbeat_interval} s); its PBX refuses "
            f"connections for {rec.outage_s:.1f} s (the integration noticed it "
            f"{rec.noticed_s:.2f} s in), then listens again. Seconds from its return, in "
            "real time:"
        ),
        "",
        "| Connection sensor `connected` | A report sent then on the bus |",
        "|---|---|",
        f"| {rec.connected_s:.2f} s | {rec.report_s:.2f} s |",
        "",
    ]


def _loads(loads: tuple[float, float, float]) -> str:
    return ", ".join(f"{load:.2f}" for load in loads)


def _requests(counter: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()))


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def _spread_verdict(results: Results) -> str:
    spread = results.spread
    if not spread.phases_s:
        return "No heartbeats were seen."
    if spread.spread:
        return (
            f"Spread: the {spread.pbxs} PBXs take turns over {spread.width_s:.1f} s of "
            f"the {spread.interval_s:g} s interval."
        )
    return (
        f"Not spread: {spread.busiest_second} heartbeats within one second of the "
        f"{spread.interval_s:g} s interval."
    )


def write_performance_doc(path: Path, section: str) -> None:
    """Replace the run below the marker of docs/performance.md: git keeps the older ones."""
    head, marker, _ = path.read_text().partition(MARKER)
    if not marker:
        raise ValueError(f"{path} has no marker line: {MARKER}")
    path.write_text(f"{head}{MARKER}\n\n{section.rstrip()}\n")
