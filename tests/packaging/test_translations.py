"""Translation files, the keys the code uses, icons.json and services.yaml."""

from collections.abc import Iterator
from importlib import import_module
from importlib.util import find_spec
import inspect
from pathlib import Path
import re
from types import ModuleType
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import Platform
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import selector
from homeassistant.helpers.device_registry import ChildDeviceInfo, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.selector import SelectSelector, SelectSelectorConfig
from homeassistant.util import slugify
import probatio
import pytest

from custom_components.yeastar_s_series import (
    config_flow,
    coordinator,
    errors as ERRORS,
    services as SERVICES,
)

from . import common
from .common import Bites, leaves, load, nodes

INTEGRATION_DIR, DOMAIN = common.INTEGRATION_DIR, common.DOMAIN
TRANSLATIONS = ("strings.json", "translations/en.json", "translations/zh-Hans.json")
# script/hassfest/translations.py: translation_key_validator, validate_translation_value
# (with string_with_no_html of homeassistant/helpers/config_validation.py).
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
VALUE_RULES = (
    (re.compile(r"<[a-z].*?>", re.IGNORECASE), "contains HTML"),
    (re.compile(r"'{\w+}'"), "has a placeholder inside single quotes"),
    (re.compile(r"(.+\[%)|(%\].+)"), "combines a [%key:...%] reference with text"),
    (re.compile(r"^\s|\s$"), "has leading or trailing spaces"),
    (RE_URL, "holds a URL; hassfest wants a placeholder"),
    (re.compile(r"^$"), "is empty"),  # the project's rule (a non-string is empty)
)
RE_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# hassfest translations.py gen_strings_schema: the sections strings.json may have.
STRINGS_SECTIONS = frozenset(
    {"title", "config", "config_subentries", "options", "preview_features"}
    | {"selector", "device_automation", "system_health", "config_panel", "issues"}
    | {"application_credentials", "entity_component", "device", "entity"}
    | {"exceptions", "services", "conditions", "triggers", "conversation", "common"}
)
# Where gen_strings_schema wants keys of translation_key_validator's form.
KEY_SECTIONS = (
    *("entity.*", "entity.*.*.state", "entity.*.*.state_attributes", "device"),
    *("entity.*.*.state_attributes.*.state", "selector.*.options"),
)
# `Callee(..., translation_key=VALUE`, the keyword at the call's own level.
RE_KEYED_CALL = re.compile(
    r"\b(\w+)\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*?\btranslation_key=([^,)\n]+)"
)
# Flow keys (and those Home Assistant's helpers abort with): pattern, key, section.
FLOW_KEYS = {
    "config_flow.py": (
        (r'"base": "(\w+)"', r"\1", "config.error"),
        (r'\breason="(\w+)"', r"\1", "config.abort"),
        (r"_abort_if_unique_id_configured\(", "already_configured", "config.abort"),
        (r"def async_step_(reauth|reconfigure)\(", r"\1_successful", "config.abort"),
    ),
    "repairs.py": ((r'\breason="(\w+)"', r"\1", "issues.*.fix_flow.abort"),),
}
# A key the code holds in a variable: the keys the table that feeds it has.
VARIABLE_KEYS = {
    ("coordinator.py", "failure.translation_key"): [
        failure.translation_key for failure in coordinator.FAILURES.values()
    ],
    ("errors.py", "ERRNO_KEYS.get(err.errno"): [
        *ERRORS.ERRNO_KEYS.values(),
        "request_refused",
    ],
    # errors.invalid(key, ...): every literal key a module that imports it calls it with.
    ("errors.py", "key"): [
        key
        for module in INTEGRATION_DIR.glob("*.py")
        if re.search(
            r"from \.errors import .*\binvalid\b", source := module.read_text()
        )
        for key in re.findall(r'(?<![.\w])invalid\(\s*"(\w+)"', source)
    ],
}
PLATFORMS = [p.value for p in Platform if (INTEGRATION_DIR / f"{p.value}.py").is_file()]
# States a platform names itself: icons for them need no translation of ours.
PLATFORM_STATES = {"switch": {"on", "off"}, "binary_sensor": {"on", "off"}}
# hassfest icons.py wants `mdi:` and no HTML; this asks for a well-formed mdi name.
RE_MDI_ICON = re.compile(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$")
# hassfest icons.py icon_schema: the sections of a hub's icons.json (no entity_component).
ICON_SECTIONS = frozenset({"config", "issues", "options", "services", "entity"})
# hassfest services.py: code that registers actions, which then need a services.yaml.
RE_REGISTERS = re.compile(
    r"(hass\.services\.(register|async_register))|async_register_entity_service"
    r"|async_register_admin_service"
)


def check_translation_files(integration_dir: Path) -> list[str]:
    """strings.json, en.json and zh-Hans.json pass hassfest's rules and agree."""
    files = {name: load(integration_dir / name) for name in TRANSLATIONS}
    flat = {name: dict(leaves(data)) for name, data in files.items()}
    strings, en, zh = flat.values()
    problems = [
        f"{name}: {path} {what}"
        for name, values in flat.items()
        for path, value in values.items()
        for regex, what in VALUE_RULES
        if regex.search(value if isinstance(value, str) else "")
    ]
    for name in TRANSLATIONS[:2]:  # hassfest reads these of a custom integration
        if unknown := sorted(set(files[name]) - STRINGS_SECTIONS):
            problems.append(f"{name}: sections {unknown} are not in hassfest's schema")
        for key, issue in files[name].get("issues", {}).items():
            # gen_issues_schema: a title; a description or (vol.Exclusive) a fix_flow.
            if "title" not in issue:
                problems.append(f"{name}: issue {key} has no title")
            if ("description" in issue) == ("fix_flow" in issue):
                problems.append(f"{name}: issue {key} needs description or fix_flow")
    if differ := sorted(k for k in strings | en if strings.get(k) != en.get(k)):
        problems.append(f"translations/en.json differs from strings.json at {differ}")
    if keys := sorted(set(strings) ^ set(zh)):
        problems.append(f"zh-Hans.json and strings.json differ in keys {keys}")
    problems += [
        f"placeholders differ at {path}: en {en.get(path)!r}, zh-Hans {text!r}"
        for path, text in zh.items()
        if set(RE_PLACEHOLDER.findall(str(en.get(path))))
        != set(RE_PLACEHOLDER.findall(str(text)))
    ]
    problems += [
        f"hassfest: invalid translation key {key!r} in {path}"
        for pattern in KEY_SECTIONS
        for path, node in nodes(files["strings.json"], pattern)
        for key in node
        if not RE_TRANSLATION_KEY.match(key)
    ]
    problems += [
        f"hassfest: {path}.data_description keys {sorted(extra)} are not in data"
        for path, step in nodes(files["strings.json"], "*.step.*")
        if (extra := set(step.get("data_description", {})) - set(step.get("data", {})))
    ]
    return problems


def attr(obj: Any, name: str) -> Any:
    """Read a description's field, or an entity class's `_attr_<name>` (kept aside)."""
    key = name if isinstance(obj, EntityDescription) else f"__attr_{name}"
    return getattr(obj, key, None)  # Entity's metaclass keeps `_attr_x` as `__attr_x`


def entity_uses(platform: str) -> Iterator[tuple[str, str, str]]:
    """Yield (where, section, key) for the keys, enum options and event types."""
    module = import_module(f"custom_components.{DOMAIN}.{platform}")
    for obj in [
        obj
        for value in vars(module).values()
        for obj in (value if isinstance(value, tuple | list) else [value])
        if isinstance(obj, EntityDescription)
        or (inspect.isclass(obj) and obj.__module__ == module.__name__)
    ]:
        if not isinstance(key := attr(obj, "translation_key"), str):
            continue
        section = f"entity.{platform}.{key}"
        yield platform, f"entity.{platform}", key
        enum = attr(obj, "device_class") == SensorDeviceClass.ENUM
        for state in attr(obj, "options") if enum else []:
            yield platform, f"{section}.state", state
        for event in attr(obj, "event_types") or []:
            yield platform, f"{section}.state_attributes.event_type.state", event


def section_of(name: str, callee: Any) -> str | None:
    """Return the section of a call's translation_key ("" if read at import)."""
    base = callee if inspect.isclass(callee) else type(None)
    if callee is SelectSelectorConfig or issubclass(base, EntityDescription):
        return ""
    if name == "async_create_issue":
        return "issues"
    if callee in (DeviceInfo, ChildDeviceInfo):
        return "device"
    return "exceptions" if issubclass(base, HomeAssistantError) else None


def keys_of(module: ModuleType, rel: str, value: str) -> list[str]:
    """Return the keys a translation_key= value takes: a constant, literals, a table."""
    if isinstance(constant := getattr(module, value, None), str):
        return [constant]
    return re.findall(r'"(\w+)"', value) or VARIABLE_KEYS.get((rel, value), [])


def code_uses(integration_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Return the keys used (where, section, key), and what the scan cannot read.

    Entities and selectors are read at import, the rest from the folder's source.
    """
    uses = [use for platform in PLATFORMS for use in entity_uses(platform)]
    for select in vars(config_flow).values():
        if isinstance(select, SelectSelector) and "translation_key" in select.config:
            options = f"selector.{select.config['translation_key']}.options"
            for option in select.config["options"]:
                value = option if isinstance(option, str) else option["value"]
                uses.append(("config_flow.py", options, value))
    problems: list[str] = []
    for path in sorted(integration_dir.rglob("*.py")):
        rel, source = str(path.relative_to(integration_dir)), path.read_text()
        name = ".".join(("custom_components", DOMAIN, *Path(rel).with_suffix("").parts))
        name = name.removesuffix(".__init__")
        module = import_module(name) if find_spec(name) else ModuleType(name)
        uses += [
            (rel, section, m.expand(template))
            for pattern, template, section in FLOW_KEYS.get(rel, ())
            for m in re.finditer(pattern, source)
        ]
        if rel == "config_flow.py":  # form errors the error table names
            uses += [
                (rel, "config.error", failure.form_error)
                for failure in coordinator.FAILURES.values()
            ]
        read = set()
        for match in RE_KEYED_CALL.finditer(source):
            read.add(match.start(2))
            where = f"{rel}:{source.count(chr(10), 0, match.start(2)) + 1}"
            section = section_of(match[1], getattr(module, match[1], None))
            if section is None:
                problems.append(f"{where}: which section holds {match[1]}'s key?")
            elif section and not (keys := keys_of(module, rel, match[2].strip())):
                problems.append(f"{where}: cannot tell the value of {match[2]}")
            elif section:
                uses += [(where, section, key) for key in keys]
        problems += [
            f"{rel}:{source.count(chr(10), 0, m.end()) + 1}: unread translation_key="
            for m in re.finditer(r"\btranslation_key=", source)
            if m.end() not in read
        ]
    return uses, problems


def check_code_keys(integration_dir: Path) -> list[str]:
    """Every key the code uses is in strings.json; every issue there is one it creates."""
    strings = load(integration_dir / "strings.json")
    uses, problems = code_uses(integration_dir)
    for where, section, key in uses:
        parent, _, last = section.rpartition(".")
        found = list(nodes(strings, parent)) if parent else [("", strings)]
        if not found:
            problems.append(f"{where}: strings.json has no {parent}")
        problems += [
            f"{where}: {key!r} is missing from strings.json {f'{path}.{last}'.strip('.')}"
            for path, node in found
            if key not in node.get(last, {})
        ]
    created = {key for _, section, key in uses if section == "issues"}
    if extra := sorted(set(strings.get("issues", {})) - created):
        problems.append(f"strings.json issues {extra} are not created by the code")
    return problems


def check_icons(integration_dir: Path) -> list[str]:
    """icons.json has hassfest's sections and mdi icons, for translations that exist."""
    icons = load(integration_dir / "icons.json")
    strings = load(integration_dir / "strings.json")
    problems = [
        f"icons.json {path}: {icon!r} is not an mdi:icon-name"
        for path, icon in leaves(icons)
        if not RE_MDI_ICON.match(str(icon))
    ]
    if unknown := sorted(set(icons) - ICON_SECTIONS):
        problems.append(f"icons.json sections {unknown} are not in hassfest's schema")
    for path, _ in leaves(icons.get("entity", {}), "entity"):
        # entity.<platform>.<key>[.state_attributes.<attr>](.default|.state.<state>)
        parent, _, last = path.removesuffix(".default").rpartition(".")
        platform = path.split(".")[1]
        if parent.endswith(".state") and last in PLATFORM_STATES.get(platform, ()):
            continue  # named by Home Assistant itself
        if not any(last in node for _, node in nodes(strings, parent)):
            problems.append(f"icons.json {path}: no such translation in strings.json")
    return problems


def check_services(integration_dir: Path) -> list[str]:
    """Check hassfest services.py's rules on registered actions and services.yaml."""
    path = integration_dir / "services.yaml"
    services = (load(path) or {}) if path.is_file() else {}
    selectors = {"", *load(integration_dir / "strings.json").get("selector", {})}
    problems = [
        f"{file.name} registers actions, but there is no services.yaml"
        for file in integration_dir.rglob("*.py")
        if not path.is_file() and RE_REGISTERS.search(file.read_text())
    ]
    problems += [f"{n!r} is not a slug" for n in services if slugify(n) != n]
    if path.is_file():  # hassfest describes each registered action from the file
        problems += [
            f"{name} is registered but not in services.yaml"
            for name in SERVICES.SCHEMAS
            if name not in services
        ]
    for name, action in services.items():
        for field, spec in ((action or {}).get("fields") or {}).items():
            try:
                config = selector.validate_selector(spec.get("selector", {"text": {}}))
            except probatio.Invalid as err:
                problems.append(f"{name}.{field}: invalid selector: {err}")
                continue
            key = config.get("select", {}).get("translation_key", "")
            if key not in selectors:
                problems.append(f"{name}.{field}: selector {key!r} not in strings.json")
    return problems


CHECKS = (check_translation_files, check_code_keys, check_icons, check_services)
SELECT = {"selector": {"select": {"options": ["a"], "translation_key": "x"}}}
BITES: Bites = {
    "|".join(TRANSLATIONS): [
        ("title", "The <b>PBX</b>", "contains HTML"),
        ("title", "The '{name}' PBX", "inside single quotes"),
        ("title", "[%key:common::x%] PBX", "combines a [%key"),
        ("title", "PBX ", "leading or trailing spaces"),
        ("title", "See www.example.com", "holds a URL"),
        ("title", "", "title is empty"),
        ("title", 7, "title is empty"),
        ("state_attributes.x", "X", "sections ['state_attributes'] are not"),
        ("issues.locked_out.title", None, "issue locked_out has no title"),
        ("issues.locked_out.description", None, "needs description or fix_flow"),
        ("issues.certificate_changed.description", "X", "needs description or"),
        ("device.Extension", "X", "invalid translation key 'Extension'"),
        ("options.step.init.data_description.x", "X", "keys ['x'] are not in data"),
        ("exceptions.invalid_auth", None, "'invalid_auth' is missing"),
        ("exceptions.tls_error", None, "'tls_error' is missing"),
        ("issues.https_webhook", None, "'https_webhook' is missing"),
        ("issues.x", {"title": "X", "description": "X"}, "['x'] are not created"),
        ("device.named_extension", None, "'named_extension' is missing"),
        ("config.error.cannot_connect", None, "json config.error"),
        ("config.abort.already_configured", None, "'already_configured' is missing"),
        ("config.abort.reauth_successful", None, "'reauth_successful' is missing"),
        ("config.abort.wrong_device", None, "'wrong_device' is missing"),
        ("issues.certificate_changed.fix_flow.abort", None, "fix_flow.abort"),
        ("entity.sensor.connection_state.state.disconnected", None, "'disconnected'"),
        ("entity.event.call.state_attributes.event_type.state.dtmf", None, "'dtmf'"),
        ("selector.api_version.options.v2_0_0", None, "'v2_0_0' is missing"),
    ],
    # Also without their icons: an entity's key, and a state of an entity class.
    "|".join((*TRANSLATIONS, "icons.json")): [
        ("entity.sensor.missed_calls", None, "'missed_calls' is missing"),
        ("entity.sensor.extension_status.state.busy", None, "'busy' is missing"),
    ],
    "icons.json": [
        ("entity.sensor.last_report.default", "mdi:A", "not an mdi"),
        ("entity_component._.default", "mdi:a", "sections ['entity_component']"),
        ("entity.sensor.nothing.default", "mdi:a", "nothing.default: no such"),
        ("entity.sensor.extension_status.state.x", "mdi:a", "state.x: no such"),
    ],
    "extra.py": [
        ("", lambda _: "f(translation_key='x')", "which section holds f's key?"),
        ("", lambda _: "ir.async_create_issue(translation_key=k)", "value of k"),
        ("", lambda _: "f(a(b(c())), translation_key='x')", "unread translation_key"),
    ],
    "services.yaml": [
        ("", None, "no services.yaml"),
        ("hang_up", None, "hang_up is registered but not in services.yaml"),
        ("Call-Back", {}, "'Call-Back' is not a slug"),
        ("dial", {"fields": {"to": {"selector": {"phone": {}}}}}, "invalid selector"),
        ("dial", {"fields": {"to": SELECT}}, "selector 'x' not in strings.json"),
    ],
    "translations/en.json": [("title", "PBX", "en.json differs from strings.json")],
    "translations/zh-Hans.json": [
        ("title", "PBX", "differ in keys ['title']"),
        ("exceptions.locked_out.message", "X", "placeholders differ"),
    ],
}


def test_translations_pass() -> None:
    """The translation files, the keys the code uses, icons and actions pass."""
    common.assert_no_problems(CHECKS)


@pytest.mark.parametrize("case", common.cases(BITES))
def test_check_bites(tmp_path: Path, case: tuple[str, str, Any, str]) -> None:
    """Each rule refuses a value set (None: deleted) in the files named."""
    common.assert_bites(tmp_path, CHECKS, *case)
