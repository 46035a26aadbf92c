"""Helpers of the checks, each of which returns the problems of an integration's folder."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import reduce
import json
from pathlib import Path
import shutil
from typing import Any

import homeassistant
from homeassistant.util.yaml import dump as dump_yaml, parse_yaml
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "yeastar_s_series"
INTEGRATION_DIR = REPO_ROOT / "custom_components" / DOMAIN
HA_COMPONENTS_DIR = Path(homeassistant.__file__).parent / "components"
ROOT_FILES = ("hacs.json", "LICENSE", "README.md")

type Check = Callable[[Path], list[str]]
type Tree = Mapping[str, Any]
# Per file ("a|b" for several): a dotted key path to set (None deletes), or "" to hand
# the whole file (JSON or YAML data, a PNG's path, else text) to a function; the value;
# a fragment of the one problem expected.
type Bites = Mapping[str, list[tuple[str, Any, str]]]


def load(path: Path) -> Any:
    """Read a JSON or YAML file."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else parse_yaml(text)


def leaves(tree: Tree, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted key path, value) for every non-mapping value of a nested mapping."""
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            yield from leaves(value, path)
        else:
            yield path, value


def nodes(tree: Tree, pattern: str, prefix: str = "") -> Iterator[tuple[str, Tree]]:
    """Yield (path, mapping) for each mapping at a dotted path; `*` matches any key."""
    head, _, rest = pattern.partition(".")
    for key in tree if head == "*" else [head] if head in tree else []:
        value, path = tree[key], f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from nodes(value, rest, f"{path}.") if rest else [(path, value)]


def assert_no_problems(checks: Iterable[Check]) -> None:
    """Fail with every problem the checks find in the integration, one a line."""
    problems = [problem for check in checks for problem in check(INTEGRATION_DIR)]
    assert not problems, "\n- ".join(["", *problems])


def cases(bites: Bites) -> list[Any]:
    """Flatten a table of bites into test cases."""
    return [
        pytest.param((file, *bite), id=f"{file.split('|')[-1]}:{bite[0]}:{bite[2]}")
        for file, rows in bites.items()
        for bite in rows
    ]


def change(data: Any, path: str, value: Any) -> Any:
    """Set a dotted key path of nested data (None deletes it), or apply a function."""
    if not path:
        return value(data)
    *parents, last = path.split(".")
    node = reduce(lambda node, part: node.setdefault(part, {}), parents, data)
    node.pop(last) if value is None else node.update({last: value})
    return data


def assert_bites(tmp_path: Path, checks: Iterable[Check], *case: Any) -> None:
    """Break a copy of the integration and ROOT_FILES; expect just the problem named."""
    files, path, value, fragment = case
    integration = tmp_path / "custom_components" / DOMAIN
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(INTEGRATION_DIR, integration, ignore=ignore)
    for name in ROOT_FILES:
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    for name in files.split("|"):
        file = (tmp_path if name in ROOT_FILES else integration) / name
        file.parent.mkdir(parents=True, exist_ok=True)
        if path == "" and value is None:
            file.unlink()  # the whole file deleted
        elif file.suffix == ".png":
            change(file, path, value)
        elif file.suffix in {".json", ".yaml"}:
            data = change(load(file) if file.exists() else {}, path, value)
            dump = json.dumps if file.suffix == ".json" else dump_yaml
            file.write_text(dump(data), encoding="utf-8")
        else:
            text = file.read_text(encoding="utf-8") if file.exists() else ""
            file.write_text(change(text, path, value), encoding="utf-8")
    problems = [problem for check in checks for problem in check(integration)]
    assert problems, f"the checks found nothing; expected {fragment!r}"
    assert all(fragment in problem for problem in problems), problems
