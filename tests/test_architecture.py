"""The README's "Architecture" table is the rule of which module may import which.

Each row is a stage of the build, in order; a module may import modules of its own stage
and of earlier stages, never of a later one, and no imports may form a cycle. Every
import counts, including those inside functions and under TYPE_CHECKING: a lazy import is
still a dependency, only a cheaper one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "src" / "policybrief"
ENTRY_POINTS = {"__init__", "__main__"}  # the package itself and `python -m policybrief`


def stages(readme: str) -> list[tuple[str, list[str]]]:
    """The table's rows: (stage, its modules), in order."""
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("stage", "") and not set(cells[0]) <= set("-:"):
            rows.append((cells[0], re.findall(r"`([a-z0-9_]+)\.py`", cells[1])))
    return rows


def imports(module: Path) -> set[str]:
    """The package's modules this module imports, anywhere in its code."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            found.update(n.split(".")[0] for n in names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("policybrief."):
            found.add(node.module.split(".")[1])  # type: ignore[union-attr]
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("policybrief."))
    return {name for name in found if (PACKAGE / f"{name}.py").exists()} - {module.stem}


def graph() -> dict[str, set[str]]:
    return {path.stem: imports(path) for path in sorted(PACKAGE.glob("*.py"))
            if path.stem not in ENTRY_POINTS}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules on it, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_module_has_one_stage() -> None:
    listed = [m for _, modules in stages((REPO / "README.md").read_text()) for m in modules]
    assert len(listed) == len(set(listed)), "a module is in two stages of the README table"
    assert sorted(listed) == sorted(graph()), (
        "README 'Architecture' table and src/policybrief/ differ: "
        f"unlisted {sorted(set(graph()) - set(listed))}, gone {sorted(set(listed) - set(graph()))}"
    )


def test_no_module_imports_a_later_stage() -> None:
    rank = {m: i for i, (_, modules) in enumerate(stages((REPO / "README.md").read_text()))
            for m in modules}
    backward = [f"{a}.py ({i}) imports {b}.py ({rank[b]})"
                for a, deps in graph().items() for b in sorted(deps)
                if (i := rank[a]) < rank[b]]
    assert not backward, "imports against the stage order: " + "; ".join(backward)


def test_no_import_cycle() -> None:
    assert cycle(graph()) is None, " -> ".join(cycle(graph()) or [])


@pytest.mark.parametrize(("edges", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a2"}, "a2": set(), "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
])
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[str] | None
) -> None:
    assert cycle(edges) == expected


def test_imports_inside_functions_count(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from . import errors\n"
                      "def f():\n    from .build import build\n"
                      "    import policybrief.cli\n    from policybrief.pdf import render_pdf\n")
    assert imports(module) == {"errors", "build", "cli", "pdf"}
