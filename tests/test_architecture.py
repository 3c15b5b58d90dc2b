"""The dependency rules of docs/architecture.md, checked on the real import graph.

- ``lint-imports`` (import-linter, contracts in pyproject.toml): the apps' layers, no cycle between
  the modules or packages of an app, task modules on top of the services, gateways on core's pure
  helpers only;
- a strongly-connected-components pass over the same graph (grimp): no import cycle between any two
  modules at all, including a package and its own modules, naming the modules of each cycle.

Imports inside functions count: hiding an import in a function does not break a cycle.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]


def _ignored_imports() -> set[tuple[str, str]]:
    """The exceptions written in the acyclic contract (importer, imported)."""
    contract = next(c for c in CONFIG["contracts"] if c["type"] == "acyclic_siblings")
    pairs = (line.split(" -> ") for line in contract.get("ignore_imports", []))
    return {(importer.strip(), imported.strip()) for importer, imported in pairs}


def import_cycles(graph: grimp.ImportGraph, ignored: set[tuple[str, str]] = frozenset()) -> list[list[str]]:
    """Every group of modules that import each other, directly or through others (Tarjan)."""
    edges = {
        module: sorted(
            m for m in graph.find_modules_directly_imported_by(module) if (module, m) not in ignored
        )
        for module in graph.modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        # Iterative depth-first search: (module, position in its list of imports).
        work = [(root, 0)]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, position = work[-1]
            targets = edges[module]
            if position < len(targets):
                work[-1] = (module, position + 1)
                target = targets[position]
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1 or module in edges[module]:
                    cycles.append(sorted(component))
    return cycles


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_lint_imports_keeps_every_contract():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - the venv's own import-linter
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycle_between_any_two_modules(graph):
    assert import_cycles(graph, _ignored_imports()) == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function(graph):
    # core.errors importing billing.tasks (say, inside a function) would close a circle through the
    # services: the finder must report it.
    graph.add_import(importer="core.errors", imported="billing.tasks")
    try:
        cycles = import_cycles(graph, _ignored_imports())
    finally:
        graph.remove_import(importer="core.errors", imported="billing.tasks")
    assert any({"core.errors", "billing.tasks"} <= set(cycle) for cycle in cycles)


def test_every_app_of_ours_has_its_place_in_the_layers():
    from django.apps import apps

    layers = next(c for c in CONFIG["contracts"] if c["type"] == "layers")["layers"]
    ours = {config.name for config in apps.get_app_configs() if (ROOT / config.name).is_dir()}
    assert ours <= set(layers), "a new app must be placed in the layers contract (pyproject.toml)"
