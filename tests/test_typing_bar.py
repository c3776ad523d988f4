"""The typing bar (issue 12): every ``Any`` in the three packages names why, and so does every ignore.

What counts: each reference to ``typing.Any`` (``Any`` or ``typing.Any`` in code, and inside string
annotations) in a ``.py`` file under crawler/, pipelines/ or connectors/; imports are not uses. A use is
*explained* when a comment containing ``Any:`` (e.g. ``# Any: scrapy-redis is untyped``) sits on the lines of
its innermost statement's header (a ``def``'s signature with its decorators, an assignment's lines), in the
block of comment lines right above that statement, or likewise at any enclosing ``def`` (one comment per
function is enough). JSON's dynamic shapes have named aliases in crawler/jsontypes.py, explained once there.

Every ``# type: ignore[...]`` must also say why: text after it in the same comment, or a comment line above.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "pipelines", "connectors")
REASON = re.compile(r"\bAny:")
IGNORE = re.compile(r"type:\s*ignore(\[[^\]]*\])?(?P<rest>.*)")


def _comments(source: str, *, alone: bool = False) -> dict[int, str]:
    """Comments by line number; with ``alone``, only those on a line of their own."""
    out: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and (not alone or tok.line.lstrip().startswith("#")):
            out[tok.start[0]] = tok.string
    return out


def _any_lines(node: ast.AST) -> list[int]:
    """Line numbers of the ``Any`` references directly in ``node``'s own expressions (string annotations too)."""
    lines: list[int] = []
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Name) and sub.id == "Any") or (isinstance(sub, ast.Attribute) and sub.attr == "Any"):
            lines.append(sub.lineno)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and re.search(r"\bAny\b", sub.value):
            try:
                inner = ast.parse(sub.value, mode="eval")
            except SyntaxError:
                continue  # prose that mentions the word, not an annotation
            if any(isinstance(n, ast.Name) and n.id == "Any" for n in ast.walk(inner)):
                lines.append(sub.lineno)
    return lines


def _header(stmt: ast.stmt) -> range:
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
    body = getattr(stmt, "body", None)
    if isinstance(body, list) and body:
        return range(first, body[0].lineno)
    return range(first, (stmt.end_lineno or stmt.lineno) + 1)


def _explained(stmt: ast.stmt, comments: dict[int, str], alone: dict[int, str]) -> bool:
    span = _header(stmt)
    lines = list(span)
    above = span.start - 1
    while above in alone:  # the block of comment-only lines right above
        lines.append(above)
        above -= 1
    return any(REASON.search(comments.get(n, "")) for n in lines)


def unexplained(source: str, name: str = "<src>") -> list[str]:
    """``name:line`` of each ``Any`` use in ``source`` that no reason comment covers."""
    tree, comments, alone = ast.parse(source), _comments(source), _comments(source, alone=True)
    found: list[str] = []

    def visit(stmts: list[ast.stmt], covered: bool) -> None:
        for stmt in stmts:
            own = _explained(stmt, comments, alone)
            children = [c for f in ("body", "orelse", "finalbody", "handlers") for c in getattr(stmt, f, []) or []]
            if isinstance(stmt, ast.Try | ast.TryStar):
                children = [*stmt.body, *stmt.orelse, *stmt.finalbody, *(s for h in stmt.handlers for s in h.body)]
            # the statement's own expressions: everything not inside a nested statement
            nested = {id(n) for c in children for n in ast.walk(c)}
            mine = [ln for n in ast.iter_child_nodes(stmt) if id(n) not in nested for ln in _any_lines(n)]
            if isinstance(stmt, ast.Match):
                mine = _any_lines(stmt.subject)
                children = [s for case in stmt.cases for s in case.body]
            if not (own or covered):
                found.extend(f"{name}:{ln}" for ln in sorted(set(mine)))
            is_def = isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(children, covered or (own and is_def))

    visit(tree.body, False)
    return found


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_every_any_in_the_packages_names_its_reason() -> None:
    missing = [u for p in _sources() for u in unexplained(p.read_text(), str(p.relative_to(ROOT)))]
    assert missing == [], f"{len(missing)} Any without an '# Any: why' comment (or use a real type):\n" + "\n".join(
        missing
    )


def test_every_type_ignore_names_its_reason() -> None:
    bare: list[str] = []
    for path in _sources():
        source = path.read_text()
        comments, alone = _comments(source), _comments(source, alone=True)
        for line, text in comments.items():
            match = IGNORE.search(text)
            if match is None:
                continue
            rest = match.group("rest").lstrip(" #")
            if not rest and (line - 1) not in alone:
                bare.append(f"{path.relative_to(ROOT)}:{line}")
    assert bare == [], "type: ignore without a reason:\n" + "\n".join(bare)


def test_the_counter_sees_an_unexplained_any_and_accepts_a_reason() -> None:
    bare = "from typing import Any\n\ndef f(x: Any) -> None:\n    y: list[Any] = []\n"
    assert unexplained(bare) == ["<src>:3", "<src>:4"]
    per_function = (
        "from typing import Any\n\n# Any: a library hands us anything\ndef f(x: Any) -> None:\n    y: list[Any] = []\n"
    )
    assert unexplained(per_function) == []
    same_line = "from typing import Any\nX = dict[str, Any]  # Any: JSON\nY: 'list[Any]' = []\n"
    assert unexplained(same_line) == ["<src>:3"]
    in_class = "from typing import Any\nclass C:\n    # Any: pydantic input\n    v: Any\n    w: Any\n"
    assert unexplained(in_class) == ["<src>:5"]
