"""The API client stays independent of Home Assistant, so it could be a library of its own."""

import ast
import json
from pathlib import Path
import subprocess
import sys

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "yeastar_s_series"
API = INTEGRATION / "api"


def test_the_client_needs_only_the_standard_library_and_aiohttp() -> None:
    """Every import in api/*.py is the standard library, aiohttp or relative; none loads Home Assistant."""
    allowed = set(sys.stdlib_module_names) | {"aiohttp"}
    offenders = [
        f"{path.name}: {name}"
        for path in sorted(API.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )
        if name.split(".")[0] not in allowed
    ]
    assert offenders == []

    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(INTEGRATION)!r})\n"
        "import api\n"
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
    assert [m for m in modules if m.split(".")[0] == "homeassistant"] == []
