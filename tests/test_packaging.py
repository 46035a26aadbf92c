"""Packaging rules of hassfest and the HACS action, held as plain file checks.

Neither validator can run here (no docker, no GitHub API), so their rules that matter for
this integration live in this module. No Home Assistant instance is started: the checks read
files (JSON, YAML, PNG, and the integration's source through `ast`); only the entity-state
check imports the platform modules, to read option lists exactly as they are at run time.

Each check is a function that takes paths (or parsed data) and returns a list of problems,
so the tests at the bottom can run it on a broken copy and show that it bites.
"""

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
import importlib
import importlib.metadata
import inspect
import json
from pathlib import Path
import re
import shutil
from types import ModuleType
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from awesomeversion.exceptions import AwesomeVersionException
import homeassistant
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import Platform, __version__ as HA_VERSION
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.selector import SelectSelector
from homeassistant.loader import Manifest
from homeassistant.util.yaml import dump as dump_yaml, parse_yaml
from PIL import Image
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CUSTOM_COMPONENTS = REPO_ROOT / "custom_components"
DOMAIN = "yeastar_s_series"
INTEGRATION_DIR = CUSTOM_COMPONENTS / DOMAIN
HA_PACKAGE_DIR = Path(homeassistant.__file__).parent
HA_COMPONENTS_DIR = HA_PACKAGE_DIR / "components"

JSON = dict[str, Any]

# --- Rules, and where they come from -------------------------------------------------------

# hassfest: INTEGRATION_MANIFEST_SCHEMA requires these; custom integrations also need
# `version` (validate_version). The second group is what this integration relies on.
MANIFEST_REQUIRED_KEYS = frozenset(
    {"domain", "name", "codeowners", "documentation", "iot_class", "version"}
)
MANIFEST_USED_KEYS = frozenset(
    {"config_flow", "issue_tracker", "integration_type", "dependencies"}
)
# Home Assistant's own manifest TypedDict is the set of keys it knows of.
MANIFEST_ALLOWED_KEYS = Manifest.__required_keys__ | Manifest.__optional_keys__

# homeassistant/loader.py refuses to load a custom integration whose version does not parse
# with one of these strategies (the same list hassfest's verify_version uses).
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]

# hassfest's dependencies plugin (script/hassfest/dependencies.py, not shipped in the wheel):
# components any integration may import without declaring them.
HASSFEST_ALLOWED_USED_COMPONENTS = frozenset(
    {
        *(platform.value for platform in Platform),
        "alert",
        "automation",
        "conversation",
        "default_config",
        "device_automation",
        "frontend",
        "group",
        "homeassistant",
        "input_boolean",
        "input_button",
        "input_datetime",
        "input_number",
        "input_select",
        "input_text",
        "media_source",
        "onboarding",
        "panel_custom",
        "persistent_notification",
        "person",
        "script",
        "shopping_list",
        "sun",
        "system_health",
        "system_log",
        "timer",
        "webhook",
        "websocket_api",
        "zone",
        "mjpeg",
        "stream",
    }
)
# Stricter than hassfest for these: webhooks need the HTTP server and webhook component set
# up before this integration, so a use must be a declared dependency.
MUST_DECLARE_COMPONENTS = frozenset({"http", "network", "webhook"})

# The HACS action's hacs.json schema.
HACS_ALLOWED_KEYS = frozenset(
    {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "hacs",
        "persistent_directory",
        "render_readme",
    }
)

# hassfest translations.py: keys of entities, states, selector options, ...
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_PLACEHOLDER = re.compile(r"\{(\w+)\}")
RE_REFERENCE = re.compile(r"^\[%key:(.+)%\]$")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
RE_MDI_ICON = re.compile(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$")

TRANSLATION_FILES = (
    "strings.json",
    "translations/en.json",
    "translations/zh-Hans.json",
)

# The quality scale rules, as listed in /work/shared/docs/home-assistant-notes.md; the
# installed Home Assistant is asked first (see ha_quality_scale_rules).
NOTES_QUALITY_SCALE_RULES = frozenset(
    {
        # Bronze
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-triggers",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
        # Silver
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
        # Gold
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
        # Platinum
        "async-dependency",
        "inject-websession",
        "strict-typing",
    }
)


# --- Helpers ---------------------------------------------------------------------------------


def load_json(path: Path) -> JSON:
    """Read a JSON object."""
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: expected a JSON object"
    return data


def load_yaml(path: Path) -> Any:
    """Read a YAML file."""
    return parse_yaml(path.read_text(encoding="utf-8"))


def leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted key path, value) for every non-dict value of a nested mapping."""
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            yield from leaves(value, path)
        else:
            yield path, value


def subtree(tree: Mapping[str, Any], path: Iterable[str]) -> Mapping[str, Any]:
    """Return the mapping at a key path, or an empty one."""
    node: Any = tree
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def pinned_ha_version() -> AwesomeVersion:
    """Home Assistant version pytest-homeassistant-custom-component pins (what we test on)."""
    for requirement in (
        importlib.metadata.requires("pytest-homeassistant-custom-component") or []
    ):
        if match := re.fullmatch(r"homeassistant\s*==\s*([\w.]+)", requirement.strip()):
            return AwesomeVersion(match.group(1))
    raise AssertionError("pytest-homeassistant-custom-component pins no homeassistant")


@cache
def ha_quality_scale_rules() -> frozenset[str]:
    """Rule ids of the quality scale, from the installed Home Assistant.

    hassfest (not shipped) makes every core integration list every rule in its
    quality_scale.yaml, so the rules all shipped files share are hassfest's list. Falls
    back to the project notes if no such file is installed.
    """
    rule_sets = [
        frozenset(data["rules"])
        for path in sorted(HA_COMPONENTS_DIR.glob("*/quality_scale.yaml"))
        if isinstance(data := load_yaml(path), dict)
        and isinstance(data.get("rules"), dict)
    ]
    if not rule_sets:
        return NOTES_QUALITY_SCALE_RULES
    return frozenset.intersection(*rule_sets)


# --- custom_components/ layout ----------------------------------------------------------------


def check_layout(custom_components: Path) -> list[str]:
    """HACS: exactly one integration folder, named as its manifest's domain."""
    folders = sorted(
        path.name
        for path in custom_components.iterdir()
        if path.is_dir() and path.name != "__pycache__"
    )
    if len(folders) != 1:
        return [
            f"custom_components/ must hold exactly one integration, found {folders}"
        ]
    manifest_path = custom_components / folders[0] / "manifest.json"
    if not manifest_path.is_file():
        return [f"custom_components/{folders[0]}/ has no manifest.json"]
    domain = load_json(manifest_path).get("domain")
    if domain != folders[0]:
        return [
            f"folder custom_components/{folders[0]}/ holds manifest domain {domain!r}"
        ]
    return []


# --- manifest.json ---------------------------------------------------------------------------


def check_manifest(integration_dir: Path) -> list[str]:
    """Check hassfest's manifest rules for a custom integration, plus what this one relies on."""
    manifest = load_json(integration_dir / "manifest.json")
    problems: list[str] = []
    keys = list(manifest)

    if missing := sorted((MANIFEST_REQUIRED_KEYS | MANIFEST_USED_KEYS) - set(keys)):
        problems.append(f"manifest.json lacks required keys {missing}")
    if unknown := sorted(set(keys) - MANIFEST_ALLOWED_KEYS):
        problems.append(
            f"manifest.json has keys Home Assistant's Manifest does not know: {unknown}"
        )
    expected_order = [
        "domain",
        "name",
        *sorted(k for k in keys if k not in {"domain", "name"}),
    ]
    if keys != expected_order:
        problems.append(
            f"manifest.json keys must be ordered domain, name, then alphabetically: "
            f"expected {expected_order}, got {keys}"
        )

    if manifest.get("domain") != integration_dir.name:
        problems.append(
            f"manifest domain {manifest.get('domain')!r} is not the folder name "
            f"{integration_dir.name!r}"
        )
    if manifest.get("iot_class") != "local_push":
        problems.append(
            f"iot_class must be 'local_push', got {manifest.get('iot_class')!r}"
        )
    if manifest.get("integration_type") != "hub":
        problems.append(
            f"integration_type must be 'hub', got {manifest.get('integration_type')!r}"
        )
    if manifest.get("config_flow") is not True:
        problems.append("config_flow must be true")

    version = manifest.get("version")
    try:
        AwesomeVersion(str(version), ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException:
        problems.append(
            f"version {version!r} does not parse as CalVer/SemVer/SimpleVer/BuildVer/PEP 440: "
            "Home Assistant refuses to load the integration"
        )
    if not isinstance(version, str):
        problems.append(f"version must be a string, got {version!r}")

    for key in ("documentation", "issue_tracker"):
        url = manifest.get(key)
        if not isinstance(url, str) or not re.fullmatch(
            r"https://[^\s/]+\.[^\s/]+(/\S*)?", url
        ):
            problems.append(f"{key} must be an https URL, got {url!r}")
    documentation = str(manifest.get("documentation", ""))
    if re.match(r"https?://(www\.)?home-assistant\.io", documentation):
        problems.append(
            f"documentation {documentation!r} points at home-assistant.io, "
            "which documents core integrations only"
        )

    codeowners = manifest.get("codeowners")
    if not isinstance(codeowners, list) or not codeowners:
        problems.append(f"codeowners must be a non-empty list, got {codeowners!r}")
    elif bad := [owner for owner in codeowners if not str(owner).startswith("@")]:
        problems.append(f"codeowners must be GitHub @handles, got {bad}")

    for key in ("requirements", "dependencies"):
        value = manifest.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of strings, got {value!r}")
    return problems


def referenced_components(integration_dir: Path) -> dict[str, set[str]]:
    """Components the integration's source imports, as hassfest's ImportCollector sees them."""
    found: dict[str, set[str]] = {}

    def add(component: str, path: Path, node: ast.stmt) -> None:
        where = f"{path.relative_to(integration_dir)}:{node.lineno}"
        found.setdefault(component, set()).add(where)

    for path in sorted(integration_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip: set[int] = set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.If)
                and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"
            ):
                skip.update(id(child) for child in ast.walk(node))
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("homeassistant.components."):
                    add(node.module.split(".")[2], path, node)
                elif node.module == "homeassistant.components":
                    for alias in node.names:
                        add(alias.name, path, node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("homeassistant.components."):
                        add(alias.name.split(".")[2], path, node)
    return found


def check_dependencies(integration_dir: Path, components_dir: Path) -> list[str]:
    """Dependencies exist in Home Assistant; imported components are declared."""
    manifest = load_json(integration_dir / "manifest.json")
    declared = set(manifest.get("dependencies", [])) | set(
        manifest.get("after_dependencies", [])
    )
    problems = [
        f"dependency {dep!r} is not a Home Assistant component "
        f"(no {components_dir.name}/{dep}/manifest.json)"
        for dep in sorted(declared)
        if not (components_dir / dep / "manifest.json").is_file()
    ]
    own_platforms = {path.stem for path in integration_dir.glob("*.py")} | {
        path.name for path in integration_dir.iterdir() if path.is_dir()
    }
    for component, where in sorted(referenced_components(integration_dir).items()):
        if component == integration_dir.name or component in declared:
            continue
        if component in MUST_DECLARE_COMPONENTS:
            problems.append(
                f"the code uses homeassistant.components.{component} ({sorted(where)}) "
                f"but {component!r} is not in the manifest's dependencies"
            )
        elif (
            component not in HASSFEST_ALLOWED_USED_COMPONENTS
            and component not in own_platforms
        ):
            problems.append(
                f"hassfest: using component {component} ({sorted(where)}) but it's not in "
                "'dependencies' or 'after_dependencies'"
            )
    return problems


# --- hacs.json -------------------------------------------------------------------------------


def check_hacs(
    repo_root: Path, tested: AwesomeVersion, pinned: AwesomeVersion
) -> list[str]:
    """HACS action: known keys only; the minimum HA version is the one the tests run on."""
    hacs = load_json(repo_root / "hacs.json")
    problems: list[str] = []
    if unknown := sorted(set(hacs) - HACS_ALLOWED_KEYS):
        problems.append(f"hacs.json has keys the HACS schema does not allow: {unknown}")
    if not isinstance(hacs.get("name"), str) or not hacs["name"].strip():
        problems.append("hacs.json needs a non-empty 'name'")
    if "homeassistant" in hacs:
        minimum = AwesomeVersion(str(hacs["homeassistant"]))
        floor = AwesomeVersion(f"{pinned.major}.{pinned.minor}.0")
        if not minimum.valid:
            problems.append(f"hacs.json homeassistant {minimum!r} is not a version")
        elif minimum > tested:
            problems.append(
                f"hacs.json declares Home Assistant >= {minimum}, newer than the {tested} "
                "the tests run against"
            )
        elif minimum < floor:
            problems.append(
                f"hacs.json declares Home Assistant >= {minimum}, older than the {floor} "
                "release the tests pin: older releases are not tested"
            )
    return problems


# --- Translation files -----------------------------------------------------------------------


def resolve_reference(reference: str, strings: JSON, domain: str, ha_dir: Path) -> str:
    """Resolve a [%key:...%] reference the way Home Assistant's translation build does."""
    parts = reference.split("::")
    if parts[0] == "component" and len(parts) > 2:
        source = (
            strings
            if parts[1] == domain
            else load_json(ha_dir / "components" / parts[1] / "strings.json")
        )
        path = parts[2:]
    elif parts[0] == "common":
        source, path = load_json(ha_dir / "strings.json"), parts
    else:
        raise KeyError(reference)
    value: Any = source
    for part in path:
        value = value[part]
    if not isinstance(value, str):
        raise KeyError(reference)
    return value


def resolved(strings: JSON, domain: str, ha_dir: Path) -> JSON:
    """strings.json with its references replaced by the text they point at."""

    def walk(node: Mapping[str, Any]) -> JSON:
        out: JSON = {}
        for key, value in node.items():
            if isinstance(value, Mapping):
                out[key] = walk(value)
            elif isinstance(value, str) and (match := RE_REFERENCE.match(value)):
                out[key] = resolve_reference(match.group(1), strings, domain, ha_dir)
            else:
                out[key] = value
        return out

    return walk(strings)


def check_translation_files(integration_dir: Path, ha_dir: Path) -> list[str]:
    """strings.json, en.json and zh-Hans.json agree and hold no empty strings."""
    files = {name: load_json(integration_dir / name) for name in TRANSLATION_FILES}
    strings, english, chinese = files.values()
    problems: list[str] = []

    key_trees = {name: dict(leaves(data)) for name, data in files.items()}
    reference = set(key_trees["strings.json"])
    for name, tree in key_trees.items():
        if missing := sorted(reference - set(tree)):
            problems.append(f"{name} lacks keys of strings.json: {missing}")
        if extra := sorted(set(tree) - reference):
            problems.append(f"{name} has keys strings.json does not: {extra}")
        for path, value in tree.items():
            if not isinstance(value, str) or not value.strip():
                problems.append(
                    f"{name}: {path} must be a non-empty string, got {value!r}"
                )
            elif value != value.strip():
                problems.append(f"{name}: {path} has leading or trailing spaces")
            elif RE_URL.search(value):
                problems.append(
                    f"{name}: {path} holds a URL; hassfest wants a placeholder"
                )

    try:
        expected_english = resolved(strings, integration_dir.name, ha_dir)
    except KeyError as err:
        problems.append(f"strings.json has a reference that does not resolve: {err}")
    else:
        differ = sorted(
            path
            for path, value in leaves(expected_english)
            if key_trees["translations/en.json"].get(path) != value
        )
        if differ:
            problems.append(
                f"translations/en.json differs from strings.json (references resolved) at {differ}"
            )

    english_leaves = dict(leaves(english))
    for path, zh_text in leaves(chinese):
        en_text = english_leaves.get(path)
        if not isinstance(en_text, str) or not isinstance(zh_text, str):
            continue
        en_ph, zh_ph = (
            set(RE_PLACEHOLDER.findall(en_text)),
            set(RE_PLACEHOLDER.findall(zh_text)),
        )
        if en_ph != zh_ph:
            problems.append(
                f"placeholders differ at {path}: en {sorted(en_ph)}, zh-Hans {sorted(zh_ph)}"
            )

    problems.extend(check_translation_key_forms(strings))
    return problems


def check_translation_key_forms(strings: JSON) -> list[str]:
    """Check hassfest's translation_key_validator and data_description rule on strings.json."""
    problems: list[str] = []

    def check_keys(where: str, keys: Iterable[str]) -> None:
        problems.extend(
            f"hassfest: invalid translation key {key!r} in {where}: keys must be "
            "[a-z0-9-_]+ and cannot start or end with a hyphen or underscore"
            for key in keys
            if not RE_TRANSLATION_KEY.match(key)
        )

    for platform, entities in strings.get("entity", {}).items():
        check_keys(f"entity.{platform}", entities)
        for key, entity in entities.items():
            check_keys(f"entity.{platform}.{key}.state", entity.get("state", {}))
            for attr, attr_strings in entity.get("state_attributes", {}).items():
                check_keys(f"entity.{platform}.{key}.state_attributes", [attr])
                check_keys(
                    f"entity.{platform}.{key}.state_attributes.{attr}.state",
                    attr_strings.get("state", {}),
                )
    check_keys("device", strings.get("device", {}))
    for selector, selector_strings in strings.get("selector", {}).items():
        check_keys(f"selector.{selector}.options", selector_strings.get("options", {}))
    for flow in ("config", "options"):
        for step_id, step in subtree(strings, (flow, "step")).items():
            if extra := sorted(
                set(step.get("data_description", {})) - set(step.get("data", {}))
            ):
                problems.append(
                    f"hassfest: {flow}.step.{step_id}.data_description keys {extra} are not in data"
                )
    return problems


# --- Translation keys used in the code ----------------------------------------------------------


@dataclass(frozen=True)
class TranslationUse:
    """A translation key the code uses, and where strings.json must hold it."""

    section: tuple[str, ...]
    key: str
    where: str


ModuleAssignments = dict[str, list[ast.expr]]


def module_assignments(integration_dir: Path) -> dict[str, ModuleAssignments]:
    """Module-level assignments of each module of the package: path -> NAME -> values."""
    assignments: dict[str, ModuleAssignments] = {}
    for path in sorted(integration_dir.rglob("*.py")):
        found: ModuleAssignments = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name):
                found.setdefault(target.id, []).append(value)
        assignments[str(path.relative_to(integration_dir))] = found
    return assignments


def _join(*parts: list[str] | None) -> list[str] | None:
    """Union of resolved values; None if any part could not be resolved."""
    if not parts or any(part is None for part in parts):
        return None
    return sorted({value for part in parts if part for value in part})


def call_name(node: ast.Call) -> str:
    """Return the called name: `f(...)` -> f, `a.b.f(...)` -> f."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


class TranslationUseCollector(ast.NodeVisitor):
    """Collect translation keys of one module, each with the strings.json section it needs."""

    def __init__(
        self,
        module: Path,
        integration_dir: Path,
        assignments: Mapping[str, ModuleAssignments],
    ) -> None:
        """Start on one module."""
        self.module = module
        self.rel = module.relative_to(integration_dir)
        self.platform = module.stem if module.stem in set(Platform) else None
        self.assignments = assignments
        self.uses: list[TranslationUse] = []
        self.problems: list[str] = []
        self._flow: list[str | None] = []
        self._function: list[str] = []
        self._function_nodes: list[ast.FunctionDef | ast.AsyncFunctionDef] = []

    # Values

    def values(self, node: ast.expr, what: str) -> list[str]:
        """Return the strings an expression can take; a problem if the walk cannot tell."""
        found = self._values(node, 0)
        if found is None:
            self.problems.append(
                f"{self.rel}:{node.lineno}: cannot tell the value of {what} "
                f"({ast.unparse(node)}); use literals, module-level constants or a "
                "module-level table of tuples"
            )
            return []
        return found

    # A small resolver: literals, conditional expressions, module-level constants
    # (of this module first, else of the package), and names bound in the enclosing
    # function, also by tuple unpacking, `next(generator, default)` and comprehension
    # targets over a module-level table of tuples.

    def _module_values(self, name: str) -> list[ast.expr]:
        own = self.assignments.get(str(self.rel), {})
        if name in own:
            return own[name]
        return [
            value
            for module in self.assignments.values()
            for value in module.get(name, [])
        ]

    def _values(self, node: ast.expr, depth: int) -> list[str] | None:
        if depth > 10:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return _join(
                self._values(node.body, depth + 1), self._values(node.orelse, depth + 1)
            )
        if (
            isinstance(node, ast.Name)
            and (local := self._local(node.id, depth)) is not None
        ):
            return local
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            exprs = self._module_values(name)
            if exprs:
                return _join(*(self._values(expr, depth + 1) for expr in exprs))
        return None

    def _values_at(self, node: ast.expr, index: int, depth: int) -> list[str] | None:
        """Values of element `index` of a tuple-valued expression."""
        if depth > 10:
            return None
        if isinstance(node, (ast.Tuple, ast.List)) and index < len(node.elts):
            return self._values(node.elts[index], depth + 1)
        if isinstance(node, ast.IfExp):
            return _join(
                self._values_at(node.body, index, depth + 1),
                self._values_at(node.orelse, index, depth + 1),
            )
        if isinstance(node, ast.Call) and call_name(node) == "next" and node.args:
            parts = [
                self._values_at(node.args[0].elt, index, depth + 1)
                if isinstance(node.args[0], ast.GeneratorExp)
                else None
            ]
            parts.extend(
                self._values_at(arg, index, depth + 1) for arg in node.args[1:]
            )
            return _join(*parts)
        return None

    def _elements(
        self, node: ast.expr, index: int | None, depth: int
    ) -> list[str] | None:
        """Values of the items (or of element `index` of the items) of an iterable."""
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            exprs = self._module_values(name)
            return (
                _join(*(self._elements(expr, index, depth + 1) for expr in exprs))
                if exprs
                else None
            )
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return _join(
                *(
                    self._values(elt, depth + 1)
                    if index is None
                    else self._values_at(elt, index, depth + 1)
                    for elt in node.elts
                )
            )
        return None

    def _local(self, name: str, depth: int) -> list[str] | None:
        """Values a name bound in the enclosing function can take, or None if unbound."""
        if not self._function_nodes:
            return None
        parts: list[list[str] | None] = []
        for node in ast.walk(self._function_nodes[-1]):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        parts.append(self._values(node.value, depth + 1))
                    elif isinstance(target, ast.Tuple):
                        parts.extend(
                            self._values_at(node.value, i, depth + 1)
                            for i, elt in enumerate(target.elts)
                            if isinstance(elt, ast.Name) and elt.id == name
                        )
            elif isinstance(node, ast.comprehension):
                if isinstance(node.target, ast.Name) and node.target.id == name:
                    parts.append(self._elements(node.iter, None, depth + 1))
                elif isinstance(node.target, ast.Tuple):
                    parts.extend(
                        self._elements(node.iter, i, depth + 1)
                        for i, elt in enumerate(node.target.elts)
                        if isinstance(elt, ast.Name) and elt.id == name
                    )
        return _join(*parts) if parts else None

    def add(self, section: tuple[str, ...], node: ast.expr, what: str) -> None:
        """Record the keys an expression stands for."""
        for key in self.values(node, what):
            self.uses.append(TranslationUse(section, key, f"{self.rel}:{node.lineno}"))

    def entity_section(self, node: ast.AST) -> tuple[str, ...] | None:
        """entity.<platform>, or a problem outside a platform module."""
        if self.platform is None:
            self.problems.append(
                f"{self.rel}:{getattr(node, 'lineno', '?')}: entity translation_key "
                "outside a platform module: cannot tell its platform"
            )
            return None
        return ("entity", self.platform)

    @property
    def flow(self) -> str | None:
        """'config', 'options' or 'repairs' inside a flow class."""
        return self._flow[-1] if self._flow else None

    def flow_section(self, kind: str) -> tuple[str, ...]:
        """Where the flow's errors or aborts live; `*` is every issue with a fix flow."""
        if self.flow == "repairs":
            return ("issues", "*", "fix_flow", kind)
        assert self.flow
        return (self.flow, kind)

    # Visitors

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        """Track flow classes; read `_attr_translation_key` class attributes."""
        bases = " ".join(ast.unparse(base) for base in node.bases)
        flow = None
        for marker, kind in (
            ("OptionsFlow", "options"),
            ("ConfigFlow", "config"),
            ("RepairsFlow", "repairs"),
        ):
            if marker in bases:
                flow = kind
        self._flow.append(flow)
        for statement in node.body:
            if (
                isinstance(statement, (ast.Assign, ast.AnnAssign))
                and statement.value is not None
            ):
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                )
                if any(
                    isinstance(t, ast.Name) and t.id == "_attr_translation_key"
                    for t in targets
                ) and (section := self.entity_section(statement)):
                    self.add(section, statement.value, "_attr_translation_key")
        self.generic_visit(node)
        self._flow.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        """Track the enclosing function (reauth or reconfigure step)."""
        self._function.append(node.name)
        self._function_nodes.append(node)
        self.generic_visit(node)
        self._function_nodes.pop()
        self._function.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        """Track the enclosing step."""
        self._function.append(node.name)
        self._function_nodes.append(node)
        self.generic_visit(node)
        self._function_nodes.pop()
        self._function.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        """`self._attr_translation_key = ...` and `errors[...] = ...`."""
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "_attr_translation_key"
                and (section := self.entity_section(node))
            ):
                self.add(section, node.value, "_attr_translation_key")
            if (
                self.flow
                and isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == "errors"
            ):
                self.add(self.flow_section("error"), node.value, "a flow error")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        """Read `{"base": "..."}` in a flow: a form error."""
        if self.flow:
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "base":
                    self.add(self.flow_section("error"), value, "a flow error")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        """translation_key=, reason=, error= keywords, and aborts with built-in reasons."""
        name = call_name(node)
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        where = f"{self.rel}:{node.lineno}"

        if (value := keywords.get("translation_key")) is not None:
            section: tuple[str, ...] | None
            if name in {"async_create_issue", "create_issue"}:
                section = ("issues",)
            elif name == "DeviceInfo":
                section = ("device",)
            elif name.endswith("SelectorConfig"):
                section = ("selector",)
            elif "translation_domain" in keywords:
                section = ("exceptions",)
            elif name.endswith("Description"):
                section = self.entity_section(node)
            else:
                section = None
                self.problems.append(
                    f"{where}: translation_key passed to {name}(): this check does not "
                    "know which strings.json section it needs; teach it"
                )
            if section:
                self.add(section, value, "translation_key")

        if self.flow:
            abort = self.flow_section("abort")
            if (value := keywords.get("reason")) is not None:
                self.add(abort, value, "an abort reason")
            elif name in {"async_abort", "AbortFlow"} and node.args:
                self.add(abort, node.args[0], "an abort reason")
            elif name == "_abort_if_unique_id_mismatch":
                self.uses.append(TranslationUse(abort, "unique_id_mismatch", where))
            elif name in {"async_update_reload_and_abort", "async_update_and_abort"}:
                function = self._function[-1] if self._function else ""
                for step, reason in (
                    ("reauth", "reauth_successful"),
                    ("reconfigure", "reconfigure_successful"),
                ):
                    if step in function:
                        self.uses.append(TranslationUse(abort, reason, where))
            if name in {"_abort_if_unique_id_configured", "_async_abort_entries_match"}:
                if (value := keywords.get("error")) is not None:
                    self.add(abort, value, "an abort reason")
                else:
                    self.uses.append(TranslationUse(abort, "already_configured", where))
        self.generic_visit(node)


def collect_translation_uses(
    integration_dir: Path,
) -> tuple[list[TranslationUse], list[str]]:
    """Every translation key the package's source uses, and what the walk could not read."""
    assignments = module_assignments(integration_dir)
    uses: list[TranslationUse] = []
    problems: list[str] = []
    for path in sorted(integration_dir.rglob("*.py")):
        collector = TranslationUseCollector(path, integration_dir, assignments)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        uses.extend(collector.uses)
        problems.extend(collector.problems)
    return uses, problems


def check_translation_uses(integration_dir: Path) -> list[str]:
    """Every key the code uses is in the right section of strings.json."""
    strings = load_json(integration_dir / "strings.json")
    uses, problems = collect_translation_uses(integration_dir)
    for use in uses:
        sections = [use.section]
        if "*" in use.section:
            # A repair flow's strings live in the fix_flow of the issue it fixes.
            star = use.section.index("*")
            parent, rest = use.section[:star], use.section[star + 1 :]
            sections = [
                (*parent, key, *rest)
                for key, value in subtree(strings, parent).items()
                if isinstance(value, Mapping) and rest[0] in value
            ]
            if not sections:
                problems.append(
                    f"{use.where}: a repair flow, but no issue in strings.json has a "
                    f"{rest[0]}"
                )
        problems.extend(
            f"{use.where}: {use.key!r} is missing from strings.json {'.'.join(section)}"
            for section in sections
            if use.key not in subtree(strings, section)
        )
    return problems


# --- Entity states, selector options, icons ------------------------------------------------------


def class_attr(cls: type, name: str) -> Any:
    """Read an entity class's `_attr_<name>`.

    Entity's metaclass (CachedProperties) turns `_attr_*` class attributes into
    properties and keeps the value as `__attr_<name>`.
    """
    value = getattr(cls, f"_attr_{name}", None)
    if isinstance(value, property):
        value = getattr(cls, f"__attr_{name}", None)
    return None if isinstance(value, property) else value


def entity_state_sets(module: ModuleType) -> Iterator[tuple[str, str, list[str]]]:
    """Yield (translation key, kind, values) for enum sensors and event entities of a platform module.

    kind is "state" for enum options and "event_type" for event types.
    """
    descriptions: list[EntityDescription] = []
    for value in vars(module).values():
        if isinstance(value, EntityDescription):
            descriptions.append(value)
        elif isinstance(value, (tuple, list)):
            descriptions.extend(v for v in value if isinstance(v, EntityDescription))
    for description in descriptions:
        options = getattr(description, "options", None)
        if (
            description.translation_key
            and getattr(description, "device_class", None) == SensorDeviceClass.ENUM
            and options
        ):
            yield description.translation_key, "state", list(options)
    for cls in vars(module).values():
        if not (
            inspect.isclass(cls)
            and issubclass(cls, Entity)
            and cls.__module__ == module.__name__
        ):
            continue
        key = class_attr(cls, "translation_key")
        if not isinstance(key, str):
            continue
        options = class_attr(cls, "options")
        if class_attr(cls, "device_class") == SensorDeviceClass.ENUM and options:
            yield key, "state", list(options)
        if event_types := class_attr(cls, "event_types"):
            yield key, "event_type", list(event_types)


def check_entity_states(strings: JSON, platform: str, module: ModuleType) -> list[str]:
    """Every enum option and event type has a state translation."""
    problems: list[str] = []
    for key, kind, values in entity_state_sets(module):
        section: tuple[str, ...]
        if kind == "state":
            section = ("entity", platform, key, "state")
        else:
            section = (
                "entity",
                platform,
                key,
                "state_attributes",
                "event_type",
                "state",
            )
        if missing := sorted(set(values) - set(subtree(strings, section))):
            problems.append(
                f"{platform} {key!r}: {kind} values {missing} have no translation under "
                f"strings.json {'.'.join(section)}"
            )
    return problems


def check_selector_options(strings: JSON, module: ModuleType) -> list[str]:
    """Check that translated select selectors have a translation for every option."""
    problems: list[str] = []
    for name, value in vars(module).items():
        if not isinstance(value, SelectSelector):
            continue
        key = value.config.get("translation_key")
        if not key:
            continue
        options = [
            option if isinstance(option, str) else option["value"]
            for option in value.config["options"]
        ]
        section = ("selector", key, "options")
        if missing := sorted(set(options) - set(subtree(strings, section))):
            problems.append(
                f"selector {name} options {missing} have no translation under "
                f"strings.json {'.'.join(section)}"
            )
    return problems


def check_icons(integration_dir: Path) -> list[str]:
    """icons.json names only translation keys that exist, with mdi icons."""
    path = integration_dir / "icons.json"
    if not path.is_file():
        return []
    icons = load_json(path)
    strings = load_json(integration_dir / "strings.json")
    problems = [
        f"icons.json {where}: {icon!r} is not an mdi:icon-name"
        for where, icon in leaves(icons)
        if not (isinstance(icon, str) and RE_MDI_ICON.match(icon))
    ]
    if unknown := sorted(set(icons) - {"entity", "services"}):
        problems.append(f"icons.json has sections this check does not know: {unknown}")
    for platform, entities in icons.get("entity", {}).items():
        for key, entity_icons in entities.items():
            entity_strings = subtree(strings, ("entity", platform, key))
            if not entity_strings:
                problems.append(
                    f"icons.json entity.{platform}.{key}: no such translation key"
                )
                continue
            problems.extend(
                f"icons.json entity.{platform}.{key}.state.{state}: "
                "no such state translation"
                for state in entity_icons.get("state", {})
                if state not in entity_strings.get("state", {})
            )
            for attr, attr_icons in entity_icons.get("state_attributes", {}).items():
                attr_strings = subtree(
                    entity_strings, ("state_attributes", attr, "state")
                )
                problems.extend(
                    f"icons.json entity.{platform}.{key}.state_attributes."
                    f"{attr}.state.{state}: no such state translation"
                    for state in attr_icons.get("state", {})
                    if state not in attr_strings
                )
    services = integration_dir / "services.yaml"
    service_names = set(load_yaml(services) or {}) if services.is_file() else set()
    if extra := sorted(set(icons.get("services", {})) - service_names):
        problems.append(f"icons.json services {extra} are not in services.yaml")
    return problems


def check_services(integration_dir: Path) -> list[str]:
    """services.yaml and the strings' services section describe the same actions."""
    path = integration_dir / "services.yaml"
    strings = load_json(integration_dir / "strings.json")
    if not path.is_file():
        if "services" in strings:
            return ["strings.json has a services section but there is no services.yaml"]
        return []
    services = load_yaml(path) or {}
    translated = strings.get("services", {})
    problems: list[str] = []
    if set(services) != set(translated):
        problems.append(
            f"services.yaml {sorted(services)} and strings.json services "
            f"{sorted(translated)} differ"
        )
    for service, spec in services.items():
        fields = set((spec or {}).get("fields", {}))
        names = set(translated.get(service, {}).get("fields", {}))
        if fields != names:
            problems.append(
                f"service {service}: fields {sorted(fields)} vs translated {sorted(names)}"
            )
    return problems


# --- Brand, quality scale, repository files --------------------------------------------------------


def check_brand(integration_dir: Path) -> list[str]:
    """Brand images shipped with the integration (HA >= 2026.3)."""
    brand = integration_dir / "brand"
    problems: list[str] = []

    def image(name: str) -> Image.Image | None:
        path = brand / name
        if not path.is_file():
            return None
        with Image.open(path) as img:
            img.load()
            if img.format != "PNG":
                problems.append(f"brand/{name} is a {img.format}, not a PNG")
            if img.mode not in {"RGBA", "LA", "RGB"}:
                problems.append(f"brand/{name} has mode {img.mode}; want RGBA (or RGB)")
            return img

    for name, size in (("icon.png", (256, 256)), ("icon@2x.png", (512, 512))):
        img = image(name)
        if img is None:
            problems.append(f"brand/{name} is missing")
        elif img.size != size:
            problems.append(
                f"brand/{name} is {img.size[0]}x{img.size[1]}, want {size[0]}x{size[1]}"
            )
    # home-assistant/brands: the logo's shortest side 128-256 px, the @2x one 256-512 px.
    for name, (low, high), required in (
        ("logo.png", (128, 256), True),
        ("logo@2x.png", (256, 512), False),
    ):
        img = image(name)
        if img is None:
            if required:
                problems.append(f"brand/{name} is missing")
        elif not low <= min(img.size) <= high:
            problems.append(
                f"brand/{name} is {img.size[0]}x{img.size[1]}: its shortest side must be "
                f"{low}-{high} px"
            )
    return problems


def check_quality_scale(integration_dir: Path, rules: frozenset[str]) -> list[str]:
    """Every rule listed; each done, or exempt with a reason; no todo."""
    data = load_yaml(integration_dir / "quality_scale.yaml")
    listed: Mapping[str, Any] = data.get("rules", {}) if isinstance(data, dict) else {}
    problems: list[str] = []
    if missing := sorted(rules - set(listed)):
        problems.append(f"quality_scale.yaml does not list rules {missing}")
    if unknown := sorted(set(listed) - rules):
        problems.append(
            f"quality_scale.yaml lists rules Home Assistant does not have: {unknown}"
        )
    for rule, entry in listed.items():
        status, comment = (
            (entry.get("status"), entry.get("comment"))
            if isinstance(entry, dict)
            else (entry, None)
        )
        if status == "exempt":
            if not isinstance(comment, str) or not comment.strip():
                problems.append(
                    f"quality_scale.yaml {rule}: exempt needs a comment saying why"
                )
        elif status != "done":
            problems.append(
                f"quality_scale.yaml {rule}: status {status!r}, want done or exempt"
            )
    return problems


def check_repository_files(repo_root: Path) -> list[str]:
    """Check for an OSI license (MIT or Apache-2.0) and a README naming the test command."""
    problems: list[str] = []
    license_path = repo_root / "LICENSE"
    if not license_path.is_file():
        problems.append("LICENSE is missing at the repository root")
    else:
        text = " ".join(license_path.read_text(encoding="utf-8").split())
        mit = (
            text.startswith("MIT License")
            and (
                "Permission is hereby granted, free of charge, to any person obtaining a copy"
                in text
            )
            and 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
        )
        apache = "Apache License" in text and "Version 2.0" in text
        if not (mit or apache):
            problems.append(
                "LICENSE is neither the MIT nor the Apache-2.0 license text"
            )
    readme = repo_root / "README.md"
    if not readme.is_file():
        problems.append("README.md is missing")
    elif "scripts/test" not in readme.read_text(encoding="utf-8"):
        problems.append("README.md does not mention scripts/test")
    return problems


# --- Tests ----------------------------------------------------------------------------------------


def assert_no_problems(problems: list[str]) -> None:
    """Fail with every problem on its own line."""
    assert not problems, "\n" + "\n".join(f"- {problem}" for problem in problems)


def test_layout() -> None:
    """One integration folder under custom_components/, named as its domain."""
    assert_no_problems(check_layout(CUSTOM_COMPONENTS))


def test_manifest() -> None:
    """manifest.json passes hassfest's rules for custom integrations."""
    assert_no_problems(check_manifest(INTEGRATION_DIR))


def test_manifest_dependencies() -> None:
    """Dependencies are real components, and the components the code imports are declared."""
    assert_no_problems(check_dependencies(INTEGRATION_DIR, HA_COMPONENTS_DIR))


def test_hacs_json() -> None:
    """hacs.json: allowed keys; the declared minimum is the tested Home Assistant."""
    assert_no_problems(
        check_hacs(REPO_ROOT, AwesomeVersion(HA_VERSION), pinned_ha_version())
    )


def test_translation_files() -> None:
    """strings.json, en.json and zh-Hans.json agree."""
    assert_no_problems(check_translation_files(INTEGRATION_DIR, HA_PACKAGE_DIR))


def test_translation_keys_used_in_code() -> None:
    """Every translation key, error and abort reason the code uses is in strings.json."""
    uses, _ = collect_translation_uses(INTEGRATION_DIR)
    # The walk must see the uses this integration is known to have.
    seen = {(use.section, use.key) for use in uses}
    for expected in (
        (("entity", "sensor"), "connection_state"),
        (("entity", "sensor"), "extension_status"),
        (("entity", "event"), "call"),
        (("exceptions",), "invalid_auth"),
        (("issues",), "https_webhook"),
        (("issues",), "locked_out"),
        (("device",), "extension"),
        (("selector",), "api_version"),
        (("config", "error"), "cannot_connect"),
        (("config", "abort"), "wrong_device"),
        (("config", "abort"), "already_configured"),
        (("config", "abort"), "reauth_successful"),
        (("config", "abort"), "reconfigure_successful"),
    ):
        assert expected in seen, f"the AST walk missed {expected}; found {sorted(seen)}"
    assert_no_problems(check_translation_uses(INTEGRATION_DIR))


@pytest.mark.parametrize(
    "platform",
    sorted(p.value for p in Platform if (INTEGRATION_DIR / f"{p.value}.py").is_file()),
)
def test_entity_state_translations(platform: str) -> None:
    """Enum sensor options and event types all have state translations."""
    strings = load_json(INTEGRATION_DIR / "strings.json")
    module = importlib.import_module(f"custom_components.{DOMAIN}.{platform}")
    assert list(entity_state_sets(module)), (
        f"{platform}.py: found no enum or event entity"
    )
    assert_no_problems(check_entity_states(strings, platform, module))


def test_selector_option_translations() -> None:
    """Every option of a translated select selector has a translation."""
    strings = load_json(INTEGRATION_DIR / "strings.json")
    module = importlib.import_module(f"custom_components.{DOMAIN}.config_flow")
    assert_no_problems(check_selector_options(strings, module))


def test_icons() -> None:
    """icons.json refers only to existing translation keys."""
    assert_no_problems(check_icons(INTEGRATION_DIR))


def test_services() -> None:
    """No actions: neither services.yaml nor a services section (else they agree)."""
    assert not (INTEGRATION_DIR / "services.yaml").exists(), (
        "services.yaml appeared: check that strings.json describes it (check_services)"
    )
    assert "services" not in load_json(INTEGRATION_DIR / "strings.json")
    assert_no_problems(check_services(INTEGRATION_DIR))


def test_brand_images() -> None:
    """icon.png 256x256, icon@2x.png 512x512 and a logo, as real PNGs."""
    assert_no_problems(check_brand(INTEGRATION_DIR))


def test_quality_scale_rule_list() -> None:
    """The rule list read from Home Assistant matches the project notes."""
    rules = ha_quality_scale_rules()
    assert rules == NOTES_QUALITY_SCALE_RULES, (
        f"installed Home Assistant rules differ from the notes: only in HA "
        f"{sorted(rules - NOTES_QUALITY_SCALE_RULES)}, only in the notes "
        f"{sorted(NOTES_QUALITY_SCALE_RULES - rules)}"
    )


def test_quality_scale() -> None:
    """quality_scale.yaml covers every rule, done or exempt with a reason."""
    assert_no_problems(check_quality_scale(INTEGRATION_DIR, ha_quality_scale_rules()))


def test_repository_files() -> None:
    """LICENSE (MIT or Apache-2.0) and a README naming scripts/test."""
    assert_no_problems(check_repository_files(REPO_ROOT))


# --- The checks bite: run them on broken copies ---------------------------------------------------


@pytest.fixture
def integration_copy(tmp_path: Path) -> Path:
    """Copy the integration (without caches), to break it."""
    target = tmp_path / "custom_components" / DOMAIN
    shutil.copytree(
        INTEGRATION_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return target


def rewrite_json(path: Path, change: Callable[[JSON], JSON]) -> None:
    """Apply a change to a JSON file."""
    path.write_text(
        json.dumps(change(load_json(path)), ensure_ascii=False), encoding="utf-8"
    )


def only(problems: list[str], fragment: str) -> None:
    """Exactly the problem expected was found."""
    assert problems, f"the check found nothing; expected {fragment!r}"
    assert all(fragment in problem for problem in problems), problems


def test_manifest_check_bites_on_key_order(integration_copy: Path) -> None:
    """Keys out of order are refused."""
    rewrite_json(integration_copy / "manifest.json", lambda m: {"name": m["name"], **m})
    only(check_manifest(integration_copy), "must be ordered domain, name")


def test_manifest_check_bites_on_unknown_key(integration_copy: Path) -> None:
    """A key Home Assistant does not know is refused (and is out of order here, too)."""
    rewrite_json(integration_copy / "manifest.json", lambda m: {**m, "homepage": "x"})
    problems = check_manifest(integration_copy)
    assert any("does not know: ['homepage']" in p for p in problems), problems


def test_manifest_check_bites_on_bad_version_and_urls(integration_copy: Path) -> None:
    """No version, and a home-assistant.io documentation URL."""
    rewrite_json(
        integration_copy / "manifest.json",
        lambda m: {
            **{k: v for k, v in m.items() if k != "version"},
            "documentation": "https://www.home-assistant.io/integrations/x",
        },
    )
    problems = "\n".join(check_manifest(integration_copy))
    assert "lacks required keys ['version']" in problems
    assert "home-assistant.io" in problems


def test_dependency_check_bites(integration_copy: Path) -> None:
    """An undeclared webhook import and a made-up dependency are refused."""
    rewrite_json(
        integration_copy / "manifest.json",
        lambda m: {**m, "dependencies": ["http", "network", "no_such_component"]},
    )
    problems = "\n".join(check_dependencies(integration_copy, HA_COMPONENTS_DIR))
    assert "'no_such_component' is not a Home Assistant component" in problems
    assert "homeassistant.components.webhook" in problems


def test_hacs_check_bites(tmp_path: Path) -> None:
    """Unknown keys and an untested minimum version are refused."""
    (tmp_path / "hacs.json").write_text(
        json.dumps({"name": "x", "homeassistant": "2099.1.0", "domains": ["sensor"]})
    )
    problems = "\n".join(
        check_hacs(tmp_path, AwesomeVersion("2026.10.4"), AwesomeVersion("2026.10.4"))
    )
    assert "['domains']" in problems
    assert "newer than the 2026.10.4" in problems
    (tmp_path / "hacs.json").write_text(
        json.dumps({"name": "x", "homeassistant": "2025.1.0"})
    )
    only(
        check_hacs(tmp_path, AwesomeVersion("2026.10.4"), AwesomeVersion("2026.10.4")),
        "older than the 2026.10.0",
    )


def test_translation_file_check_bites(integration_copy: Path) -> None:
    """A lost placeholder, an empty string and a key only in en.json are found."""

    def break_chinese(data: JSON) -> JSON:
        data["exceptions"]["unexpected_answer"]["message"] = "PBX 返回了意外的响应"
        data["entity"]["sensor"]["token_expiry"]["name"] = ""
        return data

    def break_english(data: JSON) -> JSON:
        data["exceptions"]["extra"] = {"message": "Extra"}
        return data

    rewrite_json(integration_copy / "translations/zh-Hans.json", break_chinese)
    rewrite_json(integration_copy / "translations/en.json", break_english)
    problems = "\n".join(check_translation_files(integration_copy, HA_PACKAGE_DIR))
    assert "placeholders differ at exceptions.unexpected_answer.message" in problems
    assert "entity.sensor.token_expiry.name must be a non-empty string" in problems
    assert "translations/en.json has keys strings.json does not" in problems


def test_translation_use_check_bites(integration_copy: Path) -> None:
    """A key used in the code but missing from strings.json is found, in its section."""
    (integration_copy / "extra.py").write_text(
        "from homeassistant.exceptions import HomeAssistantError\n"
        "from homeassistant.helpers import issue_registry as ir\n"
        "from .const import DOMAIN\n"
        "def f(hass):\n"
        "    ir.async_create_issue(hass, DOMAIN, 'x', is_fixable=False,\n"
        "        severity=ir.IssueSeverity.ERROR, translation_key='no_such_issue')\n"
        "    raise HomeAssistantError(translation_domain=DOMAIN,\n"
        "        translation_key='no_such_exception')\n",
        encoding="utf-8",
    )
    rewrite_json(
        integration_copy / "strings.json",
        lambda s: {**s, "config": {**s["config"], "abort": {}}},
    )
    problems = "\n".join(check_translation_uses(integration_copy))
    assert "'no_such_issue' is missing from strings.json issues" in problems
    assert "'no_such_exception' is missing from strings.json exceptions" in problems
    for reason in ("already_configured", "reauth_successful", "wrong_device"):
        assert f"'{reason}' is missing from strings.json config.abort" in problems


def test_entity_state_check_bites() -> None:
    """An enum option without a state translation is found."""
    module = importlib.import_module(f"custom_components.{DOMAIN}.sensor")
    strings = load_json(INTEGRATION_DIR / "strings.json")
    del strings["entity"]["sensor"]["connection_state"]["state"]["locked_out"]
    only(check_entity_states(strings, "sensor", module), "['locked_out']")


def test_icon_check_bites(integration_copy: Path) -> None:
    """An icon for a state that has no translation is found."""

    def add_icon(icons: JSON) -> JSON:
        icons["entity"]["sensor"]["extension_status"]["state"]["on_fire"] = "mdi:fire"
        return icons

    rewrite_json(integration_copy / "icons.json", add_icon)
    only(check_icons(integration_copy), "extension_status.state.on_fire")


def test_quality_scale_check_bites(integration_copy: Path) -> None:
    """A todo, an exempt rule without a reason and a missing rule are found."""
    path = integration_copy / "quality_scale.yaml"
    data = load_yaml(path)
    data["rules"]["brands"] = "todo"
    data["rules"]["discovery"] = {"status": "exempt"}
    del data["rules"]["strict-typing"]
    path.write_text(dump_yaml(data), encoding="utf-8")
    problems = "\n".join(
        check_quality_scale(integration_copy, NOTES_QUALITY_SCALE_RULES)
    )
    assert "brands: status 'todo'" in problems
    assert "discovery: exempt needs a comment" in problems
    assert "'strict-typing'" in problems


def test_brand_check_bites(integration_copy: Path) -> None:
    """A wrongly sized icon is found."""
    Image.new("RGBA", (200, 200)).save(integration_copy / "brand" / "icon.png")
    only(check_brand(integration_copy), "brand/icon.png is 200x200")


def test_layout_check_bites(integration_copy: Path) -> None:
    """A second integration folder is refused."""
    (integration_copy.parent / "other").mkdir()
    only(check_layout(integration_copy.parent), "exactly one integration")
