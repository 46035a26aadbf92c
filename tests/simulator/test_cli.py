"""The command line: serve in a subprocess, then drive it with the other subcommands."""

from collections.abc import Iterator
import json
from pathlib import Path
import signal
import socket
import subprocess
import sys

import pytest

ROOT = Path(__file__).parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=[False, True], ids=["http", "https"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    """Run ``serve`` in a subprocess; yield its base URL and the lines it printed."""
    https = ["--https"] if request.param else []
    tcp_port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "simulator", "serve", "--port", str(_free_port()),
            "--serial", "111", "--api-version", "v1.1.0", "--api-version", "v2.0.0",
            "--report-method", "tcp", "--tcp-port", str(tcp_port), "--tcp-answer", "json",
            *https,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in range(2 + len(https))]
    assert lines[-1] == f"event port: {tcp_port}"
    yield lines[0], lines
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_serve_state_play_fault_reboot(served: tuple[str, list[str]]) -> None:
    """The control subcommands talk to the running simulator and print its answers."""
    url, lines = served
    if url.startswith("https://"):
        assert lines[1].startswith("sha256 fingerprint: ")
    state = json.loads(_run("state", "--url", url).stdout)
    assert state["serial"] == "111"
    assert state["api_versions"] == ["v1.1.0", "v2.0.0"]
    played = _run("play", "extension_status", "--url", url, "--param", "status=Idle")
    assert json.loads(played.stdout)["reports"][0]["status"] == "Idle"
    assert _run("fault", "slow", "0.01", "--url", url).returncode == 0
    assert _run("fault", "errno", "10008", "--url", url).returncode == 0
    assert _run("trunk", "SIP-142", "Failure", "--url", url).returncode == 0
    rang = _run("play", "missed_call", "--url", url, "--param", "stay=ringing")
    assert rang.returncode == 0
    assert _run("phone", "1001", "hang_up", "--url", url).returncode == 0
    sms = json.loads(_run("sms", "--next", "silent", "--url", url).stdout)
    assert sms == {"messages": [], "next": ["silent"]}
    assert json.loads(_run("sms", "--url", url).stdout)["next"] == ["silent"]
    settings = _run("settings", "--url", url, "--param", "inbound_call_control=true")
    assert json.loads(settings.stdout)["inbound_call_control"] is True
    state = json.loads(_run("state", "--url", url).stdout)
    assert state["faults"]["slow"] == 0.01
    assert state["faults"]["errnos"] == [{"errno": "10008", "endpoint": None}]
    assert state["trunks"][0]["status"] == "Failure"
    assert state["settings"]["report_method"] == "tcp"
    assert state["calls"] == []
    assert json.loads(_run("reboot", "--url", url).stdout) == {"rebooted": True}


def test_errors_exit_non_zero() -> None:
    """HTTP errors and unreachable simulators fail the command."""
    unreachable = _run("state", "--url", f"http://127.0.0.1:{_free_port()}")
    assert unreachable.returncode == 1
    assert "cannot reach" in unreachable.stderr


def test_http_error_exits_non_zero(served: tuple[str, list[str]]) -> None:
    """A refused control request prints the simulator's answer on stderr."""
    result = _run("fault", "slow", "soon", "--url", served[0])
    assert result.returncode == 1
    assert result.stderr.startswith("400")


def test_certificate_file_keeps_the_certificate(tmp_path: Path) -> None:
    """``--certificate`` makes the certificate once, then serves the same one again."""
    pem = tmp_path / "simulator.pem"

    def fingerprint() -> str:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "simulator", "serve", "--port", str(_free_port()),
                "--https", "--certificate", str(pem), "--tcp-port", str(_free_port()),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        return lines[1]

    first = fingerprint()
    assert first.startswith("sha256 fingerprint: ")
    assert pem.stat().st_mode & 0o777 == 0o600
    assert fingerprint() == first
