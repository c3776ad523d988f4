"""No import cycles between pushcrawl's modules: the packages' import graph, read from the source, is acyclic.

Module-level imports must form no cycle at all. An import deferred into a function is allowed only when it
does not close a cycle, or when it is listed in ``DEFERRED`` with the reason it must stay deferred — so a new
cycle cannot be hidden by moving one import into a function (the identities ↔ targets workaround this
replaced).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "pipelines", "connectors")

#: deferred imports that would close a cycle, each with why it stays deferred
DEFERRED = {
    # settings name a connector by registry key; the registry loads connectors, which use crawler's model
    ("crawler.config", "connectors.registry"): "connectors depend on crawler, not the other way",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The pushcrawl module ``name`` refers to (``from a.b import c`` may name module a.b.c or a.b)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    modules = set(files)
    top: dict[str, set[str]] = {m: set() for m in modules}
    deferred: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested = {
            id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                target = _resolve(name, modules)
                if target and target != mod and not mod.startswith(target + "."):  # a package's own parent
                    (deferred if id(node) in nested else top)[mod].add(target)
    return top, deferred


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    stack, seen = [(start, [start])], {start}
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == goal:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_module_level_imports_have_no_cycle() -> None:
    top, _ = _graph()
    cycles = [path for mod in sorted(top) if (path := _reaches(top, mod, mod))]
    assert not cycles, "import cycle: " + " → ".join(cycles[0])


def test_no_deferred_import_hides_a_cycle() -> None:
    top, deferred = _graph()
    hidden = []
    for mod in sorted(deferred):
        for target in sorted(deferred[mod]):
            back = _reaches(top, target, mod)
            if back and (mod, target) not in DEFERRED:
                hidden.append(f"{mod} defers importing {target}: " + " → ".join(back))
    assert not hidden, hidden


def test_identities_and_targets_import_in_either_order() -> None:
    top, deferred = _graph()
    assert "crawler.targets" not in deferred["crawler.identities"] | top["crawler.identities"]
    assert "crawler.identities" not in deferred["crawler.targets"] | top["crawler.targets"]
