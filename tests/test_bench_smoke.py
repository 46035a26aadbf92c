"""The benchmark (scripts/bench) still runs: every phase with tiny numbers, in < 60 s.

It runs as a subprocess, as scripts/bench runs it: it starts its own Home Assistant,
event loop and load generator, which must not mix with the test's.
"""

import json
from pathlib import Path
import subprocess
import sys

from benchmarks.markdown import MARKER, write_performance_doc

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_every_phase(tmp_path: Path) -> None:
    """50 reports, 2 PBXs: the results have every figure, each report arrived once."""
    results_file = tmp_path / "results.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--reports=50",
        "--rounds=2",
        "--paced-rate=500",
        "--memory-reports=200",
        "--memory-samples=2",
        "--pbxs=2",
        "--setup-repeats=2",
        "--spread-interval=4",
        "--spread-intervals=2",
        "--idle-interval=30",
        "--outage=1",
        "--recorder-reports=100",
        "--recorder-settle=0.5",
        "--recorder-traced=50",
        f"--json={results_file}",
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "### Targets" in done.stdout
    results = json.loads(results_file.read_text())

    reports = results["reports"]
    assert reports["reports"] == 50
    for side in ("integration", "baseline", "floor"):
        assert len(reports[f"{side}_rates"]) == len(reports[f"{side}_cpu_us"]) == 2
        assert all(cpu > 0 for cpu in reports[f"{side}_cpu_us"])
        assert reports[f"{side}_rate"] > 0
    assert reports["rate_ratio"] > 0
    assert reports["cpu_ratio"] > 0
    assert reports["floor_rate_ratio"] > 0
    assert reports["floor_cpu_ratio"] > 0
    for phase in ("saturated", "paced"):
        for end_point in (
            "integration_event",
            "integration_state",
            "integration_response",
            "baseline_response",
            "floor_event",
            "floor_state",
            "floor_response",
        ):
            latency = reports[phase][end_point]
            assert latency["count"] > 0
            assert 0 <= latency["p50"] <= latency["p99"] <= latency["max"]
    delivery = reports["delivery"]
    assert reports["exactly_once"], delivery
    # Warm-up, saturated and paced batches: every unique report fired exactly once,
    # and the re-sent copies were dropped.
    assert delivery["reports"] >= 50
    assert delivery["events_missing"] == delivery["events_repeated"] == 0
    assert delivery["duplicates_dropped"] == delivery["resends"] > 0

    memory = results["memory"]
    assert memory["reports"] == 200
    assert memory["exactly_once"], memory["delivery"]
    assert len(memory["samples"]) == 2

    tcp = results["tcp"]
    assert tcp["reports"] == 50
    assert tcp["missing"] == tcp["repeated"] == 0
    assert tcp["rate"] > 0
    for end_point in ("saturated_event", "paced_event", "paced_state"):
        assert tcp[end_point]["count"] > 0

    recovery = results["recovery"]
    assert recovery["outage_s"] >= 1
    assert 0 < recovery["connected_s"] <= recovery["report_s"]

    recorder = results["recorder"]
    assert recorder["reports"] == 100
    assert recorder["rss_before_mb"] > 0
    assert len(recorder["rss_steps_mb"]) == 4
    # Each report's bus event and state change are recorded.
    assert recorder["db_rows"]["events"] >= 200
    assert recorder["db_rows"]["states"] >= 200
    assert (
        set(recorder["held_kib"])
        == set(recorder["net_kib"])
        == {
            "recorder",
            "state machine",
            "bus",
            "integration",
            "other",
        }
    )
    assert recorder["top"]

    setup = results["setup"]
    assert setup["fleet_pbxs"] == setup["fleet_loaded"] == 2
    assert setup["fleet_requests_min"] > 0
    assert setup["single_cold_ms"] > 0
    assert len(setup["single_warm_ms"]) == 1

    (idle,) = results["idle"]
    # One request a 30 s beat: a heartbeat, or a read that takes its place (the
    # hour may end before the last offset beat).
    assert idle["heartbeat_interval"] == 30
    assert 119 <= idle["requests_per_pbx_hour_min"] <= idle["requests_per_pbx_hour_max"]
    assert idle["requests_per_pbx_hour_max"] <= 120
    assert idle["requests_by_endpoint"]["trunk/list"] >= 29
    assert idle["cpu_s_per_pbx_hour"] >= 0

    spread = results["spread"]
    assert spread["pbxs"] == 2
    # Two PBXs, about 2 s apart in a 4 s interval (the coordinator rounds each schedule
    # to the second, then adds its own 0.05-0.5 s), watched for 2 intervals.
    assert spread["heartbeats_per_pbx"] == [2, 2]
    assert len(spread["phases_s"]) == 2
    assert spread["busiest_second"] <= 2

    targets = {target["name"]: target["passed"] for target in results["targets"]}
    assert len(targets) == 6
    # The floor is the reference; the empty baseline is context, no target.
    assert not any("baseline" in name for name in targets)
    assert sum("floor" in name for name in targets) == 2
    assert targets["Every report delivered exactly once"]
    assert next(passed for name, passed in targets.items() if "Idle" in name)


def test_write_replaces_the_run(tmp_path: Path) -> None:
    """--write keeps the prose above the marker and replaces the run below it."""
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nIntro.\n\n{MARKER}\n\n## Older run\n\nOld.\n")
    write_performance_doc(doc, "## Newer run\n\nTable.\n")
    assert doc.read_text() == (
        f"# Performance\n\nIntro.\n\n{MARKER}\n\n## Newer run\n\nTable.\n"
    )
