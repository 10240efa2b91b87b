"""The shape of the code, checked from its imports so that it stays true.

- the scoring engine (``advisor/engine``) imports only itself and the standard library;
- the demo core (``advisor/demos``) imports no Django and nothing of the project outside it;
- no two parts import each other, directly or round a longer loop;
- no views module imports another part's views.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("advisor", "questionnaire", "config")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (deferred imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def part_of(module: str) -> str | None:
    """The part a project module belongs to, or None for anything outside the project."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if parts[0] != "advisor" or len(parts) == 1:
        return parts[0]
    # advisor/'s sub-packages (engine, demos, rulesets, reports, demoruns, admin, ...) and
    # its single modules (models, apps, charts, ownership, ...) are each a part.
    return f"advisor.{parts[1]}"


def project_module_exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def dependencies() -> dict[str, dict[str, set[str]]]:
    """{part: {imported part: {importing file, ...}}} for imports between parts."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in source_files():
        here = part_of(module_name(path))
        for module in imported_modules(path):
            there = part_of(module)
            if there and there != here and project_module_exists(module):
                graph[here][there].add(str(path.relative_to(ROOT)))
    return graph


def find_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for neighbour in graph.get(node, {}):
            if state.get(neighbour) == "open":
                return [*trail[trail.index(neighbour) :], neighbour]
            if neighbour not in state and (found := visit(neighbour, [*trail, neighbour])):
                return found
        state[node] = "done"
        return None

    for start in list(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def files_of(part: str) -> list[Path]:
    return [path for path in source_files() if part_of(module_name(path)) == part]


def test_the_scoring_engine_imports_only_itself_and_the_standard_library():
    outside = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in files_of("advisor.engine")
        for module in imported_modules(path)
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith("advisor.engine")
        and module != "__future__"
    }
    assert not outside, sorted(outside)


def test_the_demo_core_imports_no_django_and_nothing_of_the_project_outside_it():
    outside = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in files_of("advisor.demos")
        for module in imported_modules(path)
        if module.split(".")[0] == "django" or (part_of(module) not in (None, "advisor.demos"))
    }
    assert not outside, sorted(outside)


def test_no_two_parts_import_each_other():
    graph = dependencies()
    cycle = find_cycle(graph)
    if cycle:
        steps = [
            f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})"
            for a, b in zip(cycle, cycle[1:], strict=False)
        ]
        raise AssertionError("the parts import each other in a loop:\n" + "\n".join(steps))


def test_no_views_module_imports_another_parts_views():
    offending = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in source_files()
        if path.stem == "views"
        for module in imported_modules(path)
        if module.endswith(".views") and part_of(module) != part_of(module_name(path))
    }
    assert not offending, sorted(offending)


def test_the_checker_finds_a_loop():
    """The cycle check is not vacuous: it reports a loop planted in a graph."""
    planted = {"a": {"b": {"a.py"}}, "b": {"c": {"b.py"}}, "c": {"a": {"c.py"}}}
    assert find_cycle(planted) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": {"a.py"}}, "b": {}}) is None
