"""The reliability catalogue tables, generated from the test suite's markers.

Every test that checks a row of the catalogue carries
``@pytest.mark.catalogue("E07", input="...", outcome="...")``; a second test
of a row already described carries only its own id and the row it belongs
to, ``@pytest.mark.catalogue("E09b", part_of="E09")``. The directive
``.. catalogue:: E`` renders the rows of one section as a ``list-table``,
ordered by id.

The markers are read from the test files with :mod:`ast`, without running
pytest, so the collector needs the standard library only: the test suite
imports it (``tests/test_catalogue.py``) without Sphinx installed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

#: A case id: its section letter, two digits, and ``b`` for a second case.
CASE_ID = re.compile(r"^([EPMLCD])(\d\d)(b?)$")
SECTIONS = "EPMLDC"
TESTS_DIR = Path(__file__).resolve().parents[2] / "tests"


@dataclass(frozen=True)
class Case:
    """One ``catalogue`` marker: a row, or a further test of a row."""

    id: str
    input: str | None
    outcome: str | None
    part_of: str | None
    path: str
    test: str


def _marker_name(node: ast.expr) -> str:
    """``"pytest.mark.catalogue"`` for ``@pytest.mark.catalogue(...)``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _literal(node: ast.expr, where: str) -> str:
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        raise ValueError(f"{where}: catalogue texts must be string literals")
    return node.value


def _cases_of(path: Path, root: Path) -> list[Case]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    cases = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for deco in node.decorator_list:
            if not (
                isinstance(deco, ast.Call)
                and _marker_name(deco.func) == "pytest.mark.catalogue"
            ):
                continue
            where = f"{path.relative_to(root)}::{node.name}"
            if len(deco.args) != 1:
                raise ValueError(f"{where}: catalogue takes one case id")
            texts = {kw.arg: _literal(kw.value, where) for kw in deco.keywords}
            unknown = set(texts) - {"input", "outcome", "part_of"}
            if unknown:
                raise ValueError(f"{where}: unknown catalogue field(s) {unknown}")
            cases.append(
                Case(
                    id=_literal(deco.args[0], where),
                    input=texts.get("input"),
                    outcome=texts.get("outcome"),
                    part_of=texts.get("part_of"),
                    path=str(path.relative_to(root)),
                    test=node.name,
                )
            )
    return cases


def collect(tests_dir: Path | str = TESTS_DIR) -> list[Case]:
    """Every ``catalogue`` marker under ``tests_dir``, in file order."""
    tests_dir = Path(tests_dir)
    cases = []
    for path in sorted(tests_dir.rglob("test_*.py")):
        cases.extend(_cases_of(path, tests_dir.parent))
    return cases


def sort_key(case_id: str) -> tuple[str, int, str]:
    """Section letter, number, suffix: ``E18`` before ``E18b`` before ``E19``."""
    match = CASE_ID.match(case_id)
    if match is None:
        raise ValueError(f"malformed catalogue id {case_id!r}")
    letter, number, suffix = match.groups()
    return letter, int(number), suffix


def rows(cases: list[Case], section: str) -> list[Case]:
    """The rows of one section (the cases that describe one), ordered by id."""
    described = [c for c in cases if c.part_of is None and c.id.startswith(section)]
    return sorted(described, key=lambda c: sort_key(c.id))


def _cell(text: str) -> list[str]:
    lines = text.strip().splitlines() or [""]
    return [f"     - {lines[0]}", *(f"       {line}" for line in lines[1:])]


def list_table(cases: list[Case], section: str) -> list[str]:
    """The reStructuredText ``list-table`` of one section, line by line."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 6 40 54",
        "",
        "   * - Case",
        "     - Input",
        "     - Outcome",
    ]
    for case in rows(cases, section):
        if case.input is None or case.outcome is None:
            raise ValueError(
                f"{case.path}::{case.test}: {case.id} needs an input "
                "and an outcome, or part_of"
            )
        lines.append(f"   * - {case.id}")
        lines.extend(_cell(case.input))
        lines.extend(_cell(case.outcome))
    return lines


def setup(app):
    """Register ``.. catalogue:: <section letter>``."""
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class CatalogueDirective(SphinxDirective):
        required_arguments = 1
        has_content = False

        def run(self):
            section = self.arguments[0]
            if section not in SECTIONS:
                raise self.error(f"unknown catalogue section {section!r}")
            cases = collect()
            for path in sorted(TESTS_DIR.rglob("test_*.py")):
                self.env.note_dependency(str(path))
            if not rows(cases, section):
                raise self.error(f"no test carries a catalogue id of section {section}")
            content = StringList(
                list_table(cases, section), source=self.get_source_info()[0]
            )
            container = nodes.container()
            self.state.nested_parse(content, self.content_offset, container)
            return container.children

    app.add_directive("catalogue", CatalogueDirective)
    return {"version": "1.0", "parallel_read_safe": True}
