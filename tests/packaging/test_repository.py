"""The manifest, hacs.json, repository files, brand images and quality scale."""

import ast
import os
from pathlib import Path
import re
import subprocess
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import Platform, __version__ as HA_VERSION
from homeassistant.generated.countries import COUNTRIES
from homeassistant.loader import Manifest
from PIL import Image
import pytest

from . import common
from .common import HA_COMPONENTS_DIR, Bites, Check, load

# hassfest manifest.py and HACS utils/validate.py (INTEGRATION_MANIFEST_JSON_SCHEMA)
# require these; the second group is what this integration relies on.
MANIFEST_REQUIRED_KEYS = frozenset(
    {"domain", "name", "codeowners", "documentation", "iot_class", "version"}
    | {"config_flow", "issue_tracker", "integration_type", "dependencies"}
)
# Home Assistant's own manifest TypedDict is the set of keys it knows of.
MANIFEST_ALLOWED_KEYS = Manifest.__required_keys__ | Manifest.__optional_keys__
# The values this integration relies on.
MANIFEST_VALUES = {"iot_class": "local_push", "integration_type": "hub"}
# homeassistant/loader.py refuses a custom integration whose version parses with none.
VERSION_STRATEGIES = {
    getattr(AwesomeVersionStrategy, name)
    for name in ("CALVER", "SEMVER", "SIMPLEVER", "BUILDVER", "PEP440")
}
# hassfest dependencies.py ALLOWED_USED_COMPONENTS: importable without a dependency.
HASSFEST_ALLOWED_USED_COMPONENTS = (
    {platform.value for platform in Platform}
    | {"alert", "automation", "conversation", "default_config", "device_automation"}
    | {"frontend", "group", "homeassistant", "input_boolean", "input_button"}
    | {"input_datetime", "input_number", "input_select", "input_text", "media_source"}
    | {"onboarding", "panel_custom", "persistent_notification", "person", "script"}
    | {"shopping_list", "sun", "system_health", "system_log", "timer", "webhook"}
    | {"websocket_api", "zone", "mjpeg", "stream"}
)
# Stricter than hassfest: webhooks need the HTTP server and webhook component set up
# first, so using one of these must be a declared dependency.
MUST_DECLARE_COMPONENTS = frozenset({"http", "network", "webhook"})
# HACS custom_components/hacs/utils/validate.py HACS_MANIFEST_JSON_SCHEMA (no extras).
HACS_TYPES: dict[str, type | tuple[type, ...]] = {
    **dict.fromkeys(("content_in_root", "hide_default_branch", "render_readme"), bool),
    **dict.fromkeys(("name", "filename", "hacs", "homeassistant"), str),
    "persistent_directory": str,
    "zip_release": bool,
    "country": (str, list),
}
# HACS const.py LOCALE, which _country_validator checks upper-cased codes against:
# the ISO 3166-1 alpha-2 codes Home Assistant lists, less AX, plus ALL.
HACS_COUNTRIES = COUNTRIES - {"AX"} | {"ALL"}
# home-assistant/brands: the range of an image's shortest side (icons are square).
BRAND_IMAGES = {
    "icon.png": (256, 256),
    "icon@2x.png": (512, 512),
    "logo.png": (128, 256),
}
MIT_PHRASES = (
    "MIT License",
    "Permission is hereby granted, free of charge, to any person obtaining a copy",
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND',
)


def check_manifest(integration_dir: Path) -> list[str]:
    """Check hassfest's and HACS's manifest rules, and what this integration relies on."""
    manifest = load(integration_dir / "manifest.json")
    keys = list(manifest)
    problems: list[str] = []
    if missing := sorted(MANIFEST_REQUIRED_KEYS - set(keys)):
        problems.append(f"manifest.json lacks required keys {missing}")
    if unknown := sorted(set(keys) - MANIFEST_ALLOWED_KEYS):
        problems.append(f"manifest.json has keys HA does not know: {unknown}")
    first = [key for key in ("domain", "name") if key in keys]
    if keys != [*first, *sorted(set(keys) - set(first))]:
        problems.append("manifest.json keys must be domain, name, then sorted")
    want = {**MANIFEST_VALUES, "domain": integration_dir.name, "config_flow": True}
    for key, value in want.items():
        if manifest.get(key) != value:
            problems.append(f"manifest {key} must be {value!r}")
    version = manifest.get("version")
    if not isinstance(version, str) or (
        AwesomeVersion(version).strategy not in VERSION_STRATEGIES
    ):
        problems.append(f"version {version!r} is not a string HA can parse")
    for key in ("documentation", "issue_tracker"):
        url = manifest.get(key)
        if not isinstance(url, str) or not re.fullmatch(r"https://[^\s/]+\.\S+", url):
            problems.append(f"{key} must be an https URL, got {url!r}")
    if "home-assistant.io" in str(manifest.get("documentation")):
        problems.append("documentation points at home-assistant.io, for core only")
    owners = manifest.get("codeowners")
    if not owners or not all(str(owner).startswith("@") for owner in owners):
        problems.append(f"codeowners must be GitHub @handles, got {owners!r}")
    for key in ("requirements", "dependencies"):
        value = manifest.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of strings, got {value!r}")
    return problems


def referenced_components(integration_dir: Path) -> dict[str, set[str]]:
    """Components the code imports, as hassfest dependencies.py's ImportCollector sees."""
    found: dict[str, set[str]] = {}
    for path in sorted(integration_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {  # hassfest skips `if TYPE_CHECKING:` blocks
            id(child)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for child in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in skip or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            modules = [alias.name for alias in node.names]
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                modules = [f"{module}.{name}" for name in modules]
                modules = modules if module == "homeassistant.components" else [module]
            for module in modules:
                if module.startswith("homeassistant.components."):
                    where = f"{path.relative_to(integration_dir)}:{node.lineno}"
                    found.setdefault(module.split(".")[2], set()).add(where)
    return found


def check_dependencies(integration_dir: Path) -> list[str]:
    """Dependencies exist in Home Assistant; imported components are declared."""
    manifest = load(integration_dir / "manifest.json")
    declared = {*manifest["dependencies"], *manifest.get("after_dependencies", [])}
    problems = [
        f"dependency {dep!r} is not a Home Assistant component"
        for dep in sorted(declared)
        if not (HA_COMPONENTS_DIR / dep / "manifest.json").is_file()
    ]
    allowed = declared | HASSFEST_ALLOWED_USED_COMPONENTS | {integration_dir.name}
    own = {path.stem for path in integration_dir.iterdir()}
    for component, where in sorted(referenced_components(integration_dir).items()):
        if component in MUST_DECLARE_COMPONENTS - declared:
            problems.append(f"uses {component} {sorted(where)}, not a dependency")
        elif component not in allowed | own:
            problems.append(f"hassfest: using {component} {sorted(where)} undeclared")
    return problems


def check_hacs(integration_dir: Path) -> list[str]:
    """Check HACS's hacs.json schema; the minimum Home Assistant is the one tested."""
    hacs = load(integration_dir.parents[1] / "hacs.json")
    problems = [
        f"hacs.json {key} must not be a {type(value).__name__}"
        for key, value in hacs.items()
        if not isinstance(value, HACS_TYPES.get(key, object))
    ]
    if unknown := sorted(set(hacs) - set(HACS_TYPES)):
        problems.append(f"hacs.json has keys the HACS schema does not allow: {unknown}")
    if not str(hacs.get("name", "")).strip():
        problems.append("hacs.json needs a non-empty 'name'")
    countries = hacs.get("country", [])
    countries = [countries] if isinstance(countries, str) else countries
    if bad := [c for c in countries if str(c).upper() not in HACS_COUNTRIES]:
        problems.append(f"hacs.json country {bad} are not ISO 3166-1 alpha-2 codes")
    # HACS validate/hacsjson.py: an integration's zip release needs its file name.
    if hacs.get("zip_release") and not hacs.get("filename"):
        problems.append("hacs.json: zip_release is True, but filename is not set")
    tested = AwesomeVersion(HA_VERSION)
    floor = AwesomeVersion(f"{tested.major}.{tested.minor}.0")
    minimum = AwesomeVersion(str(hacs.get("homeassistant", floor)))
    if not (minimum.valid and floor <= minimum <= tested):
        problems.append(f"hacs.json homeassistant must be {floor} to {tested}")
    return problems


def check_repository_files(integration_dir: Path) -> list[str]:
    """Check the folders, the LICENSE (MIT or Apache-2.0) and the README."""
    repo_root = integration_dir.parents[1]
    problems: list[str] = []
    # HACS: custom_components/ holds exactly one integration.
    folders = [p.name for p in (repo_root / "custom_components").glob("[!_.]*/")]
    if len(folders) != 1:
        problems.append(f"custom_components/ must hold one integration: {folders}")
    text = " ".join((repo_root / "LICENSE").read_text(encoding="utf-8").split())
    mit = text.startswith(MIT_PHRASES[0]) and all(p in text for p in MIT_PHRASES)
    if not (mit or ("Apache License" in text and "Version 2.0" in text)):
        problems.append("LICENSE is neither the MIT nor the Apache-2.0 text")
    # HACS validate/information.py wants a README; the project wants its test command.
    if "scripts/test" not in (repo_root / "README.md").read_text(encoding="utf-8"):
        problems.append("README.md does not mention scripts/test")
    return problems


def check_brand(integration_dir: Path) -> list[str]:
    """Brand images shipped with the integration, RGB(A) PNGs of the brands' sizes."""
    problems: list[str] = []
    for name, (low, high) in BRAND_IMAGES.items():
        if not (path := integration_dir / "brand" / name).is_file():
            problems.append(f"brand/{name} is missing")
            continue
        with Image.open(path) as image:
            if image.format != "PNG" or image.mode not in {"RGBA", "LA", "RGB"}:
                problems.append(f"brand/{name} is a {image.mode} {image.format}")
            square = image.width == image.height or name.startswith("logo")
            if not (low <= min(image.size) <= high and square):
                problems.append(f"brand/{name} is {image.width}x{image.height}")
    return problems


def check_quality_scale(integration_dir: Path) -> list[str]:
    """Every rule listed, and done or exempt with a reason.

    The rules are those every quality_scale.yaml shipped with Home Assistant lists:
    hassfest quality_scale.py makes each core one list all of its ALL_RULES.
    """
    core = HA_COMPONENTS_DIR.glob("*/quality_scale.yaml")
    rules = set.intersection(*(set(load(path)["rules"]) for path in core))
    listed = load(integration_dir / "quality_scale.yaml")["rules"]
    problems = [f"rule {rule!r} is not listed" for rule in sorted(rules - set(listed))]
    problems += [f"{rule!r} is not a rule" for rule in sorted(set(listed) - rules)]
    for rule, entry in listed.items():
        entry = entry if isinstance(entry, dict) else {"status": entry}
        if (status := entry.get("status")) not in {"done", "exempt"}:
            problems.append(f"rule {rule}: {status!r}, not done or exempt")
        elif status == "exempt" and not str(entry.get("comment", "")).strip():
            problems.append(f"rule {rule}: exempt needs a comment saying why")
    return problems


CHECKS: tuple[Check, ...] = (check_manifest, check_dependencies, check_hacs)
CHECKS += (check_repository_files, check_brand, check_quality_scale)
DEPENDENCIES = ["http", "network", "webhook"]
BITES: Bites = {
    "manifest.json": [
        ("name", None, "lacks required keys ['name']"),
        ("zz", "x", "does not know: ['zz']"),
        ("", lambda m: {"name": m.pop("name"), **m}, "domain, name, then sorted"),
        ("iot_class", "cloud_push", "iot_class must be 'local_push'"),
        ("config_flow", False, "config_flow must be True"),
        ("version", "one", "'one' is not a string HA can parse"),
        ("version", 1, "1 is not a string HA can parse"),
        ("issue_tracker", "http://x.org", "issue_tracker must be an https URL"),
        ("documentation", "https://home-assistant.io/x", "home-assistant.io"),
        ("codeowners", ["someone"], "codeowners must be GitHub @handles"),
        ("requirements", "aiohttp", "requirements must be a list of strings"),
        ("dependencies", DEPENDENCIES[:2], "uses webhook"),
        ("dependencies", [*DEPENDENCIES, "x"], "'x' is not a Home Assistant"),
    ],
    "hacs.json": [
        ("domains", ["sensor"], "does not allow: ['domains']"),
        ("name", None, "needs a non-empty 'name'"),
        ("render_readme", "yes", "render_readme must not be a str"),
        ("country", ["de", "XX"], "country ['XX'] are not"),
        ("zip_release", True, "filename is not set"),
        ("homeassistant", "2099.1.0", "homeassistant must be"),
        ("homeassistant", "2025.1.0", "homeassistant must be"),
    ],
    "../other/manifest.json": [("", lambda _: {}, "must hold one integration")],
    "LICENSE": [("", lambda _: "GNU GPL", "neither the MIT nor the Apache")],
    "README.md": [("", lambda _: "# Yeastar", "does not mention scripts/test")],
    "brand/icon.png": [
        ("", lambda path: Image.new("RGBA", (200, 200)).save(path), "is 200x200"),
    ],
    "brand/logo.png": [
        ("", lambda path: Image.new("RGBA", (2048, 512)).save(path), "is 2048x512"),
    ],
    "quality_scale.yaml": [
        ("rules.brands", "todo", "brands: 'todo', not done or exempt"),
        ("rules.discovery", {"status": "exempt"}, "discovery: exempt needs a comment"),
        ("rules.strict-typing", None, "'strict-typing' is not listed"),
        ("rules.x", "done", "'x' is not a rule"),
    ],
}


def test_repository_passes() -> None:
    """The manifest, hacs.json, repository files, brand and quality scale pass."""
    common.assert_no_problems(CHECKS)


@pytest.mark.parametrize("case", common.cases(BITES))
def test_check_bites(tmp_path: Path, case: tuple[str, str, Any, str]) -> None:
    """Each rule refuses a copy of the repository broken in one place."""
    common.assert_bites(tmp_path, CHECKS, *case)


def test_setup_says_which_python_to_install() -> None:
    """scripts/setup with a Python too old (PYTHON=): it names the version and a way."""
    result = subprocess.run(
        ["scripts/setup"],
        cwd=common.REPO_ROOT,
        env={**os.environ, "PYTHON": "false"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "Python >= 3.14.2" in result.stderr
    assert "uv python install 3.14" in result.stderr


def test_changelog_names_the_manifest_version() -> None:
    """A release bumps the manifest's version and says what changed, in one commit."""
    version = load(common.INTEGRATION_DIR / "manifest.json")["version"]
    changelog = (common.REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    [latest] = re.findall(r"^## (\S+)$", changelog, flags=re.MULTILINE)[:1]
    assert latest == version
