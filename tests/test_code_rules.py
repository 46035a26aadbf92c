"""Rules of the code base that no linter here checks: import cycles and `@override`.

Both apply to every package of the project: the integration, the simulator, the
development tools and the benchmarks.
"""

import ast
from collections.abc import Iterator
import importlib
import inspect
from pathlib import Path
import pkgutil
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("custom_components.yeastar_s_series", "simulator", "devtools", "benchmarks")


def modules(package: str) -> Iterator[str]:
    """Name every module of a package, the package itself included."""
    yield package
    path = ROOT.joinpath(*package.split("."))
    for info in pkgutil.walk_packages([str(path)], prefix=f"{package}."):
        yield info.name


def source_path(module: str) -> Path:
    """Return the file a module is read from."""
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_modules(module: str, known: set[str]) -> set[str]:
    """Return the project modules `module` imports anywhere (TYPE_CHECKING included)."""
    package = (
        module
        if source_path(module).name == "__init__.py"
        else module.rpartition(".")[0]
    )
    found: set[str] = set()
    for node in ast.walk(ast.parse(source_path(module).read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in known and name != module)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle of the graph, None when there is none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for child in sorted(graph[node]):
            if (cycle := visit(child, [*path, node])) is not None:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        if (cycle := visit(start, [])) is not None:
            return cycle
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    """No module imports, through others, a module that imports it (type-only ones too)."""
    known = set(modules(package))
    graph = {module: imported_modules(module, known) for module in known}
    assert find_cycle(graph) is None


def test_the_cycle_check_bites() -> None:
    """A graph with a cycle, even a long one, is found out."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def missing_overrides(module: ModuleType) -> Iterator[str]:
    """Name the methods of a module's classes that override a base's without `@override`.

    `__init__` is left out, as Home Assistant core leaves it out, and so are methods
    written by something else (dataclasses, enums).
    """
    for cls in vars(module).values():
        if not inspect.isclass(cls) or cls.__module__ != module.__name__:
            continue
        for name, member in vars(cls).items():
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)
            code = getattr(function, "__code__", None)
            if (
                name == "__init__"
                or name.startswith("__annotate")  # written by Python itself
                or code is None
                or code.co_filename != module.__file__
                or not any(name in vars(base) for base in cls.__mro__[1:])
            ):
                continue
            if not getattr(function, "__override__", False):
                yield f"{cls.__qualname__}.{name}"


@pytest.mark.parametrize("package", PACKAGES)
def test_overrides_are_marked(package: str) -> None:
    """Every method that overrides a base class's says so with `@override`."""
    missing = [
        f"{name}: {method}"
        for name in modules(package)
        if name not in {"benchmarks.__main__", "simulator.__main__"}
        for method in missing_overrides(importlib.import_module(name))
    ]
    assert missing == []


def test_the_override_check_bites() -> None:
    """A subclass method without `@override` is found; one with it is not."""
    module = ModuleType("example")
    module.__file__ = "example.py"
    code = compile(
        "from typing import override\n"
        "class Base:\n    def run(self): ...\n    def stop(self): ...\n"
        "class Child(Base):\n    def run(self): ...\n    @override\n    def stop(self): ...\n",
        "example.py",
        "exec",
    )
    exec(code, module.__dict__)  # noqa: S102 - a fixed, local snippet
    for cls in ("Base", "Child"):
        module.__dict__[cls].__module__ = "example"
    assert list(missing_overrides(module)) == ["Child.run"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_future_annotations(package: str) -> None:
    """Python 3.14 defers annotations: no module imports the `__future__` module."""
    assert [
        name
        for name in modules(package)
        if any(
            isinstance(node, ast.ImportFrom) and node.module == "__future__"
            for node in ast.walk(ast.parse(source_path(name).read_text()))
        )
    ] == []
