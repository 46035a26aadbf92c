"""The API client stays independent of Home Assistant, so it could be a library of its own."""

import ast
import json
from pathlib import Path
import subprocess
import sys

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "yeastar_s_series"
API = INTEGRATION / "api"


def test_import_pulls_in_no_home_assistant() -> None:
    """`import api` on its own loads no `homeassistant` module."""
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(INTEGRATION)!r})\n"
        "import api\n"
        "assert api.YeastarClient and api.parse_report\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    modules = json.loads(result.stdout)
    assert "api.client" in modules
    assert "aiohttp" in modules
    assert [m for m in modules if m.split(".")[0] == "homeassistant"] == []


def test_api_modules_import_only_stdlib_and_aiohttp() -> None:
    """Every import in api/*.py is the standard library, aiohttp, or relative."""
    allowed = set(sys.stdlib_module_names) | {"aiohttp"}
    seen: set[str] = set()
    offenders: list[str] = []
    files = sorted(API.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                seen.add(name.split(".")[0])
                if name.split(".")[0] not in allowed:
                    offenders.append(f"{path.name}: {name}")

    assert offenders == []
    assert {"aiohttp", "asyncio", "hashlib", "json", "ssl"} <= seen
