"""The reliability catalogue: its markers and the tables the docs build from them.

``docs/_ext/catalogue.py`` reads the ``catalogue`` markers of the tests with
``ast`` and renders the tables of ``docs/reliability.rst``; its collector is
called directly here, without Sphinx.
"""

import ast
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "docs" / "_ext" / "catalogue.py"
PAGE = ROOT / "docs" / "reliability.rst"

if not EXTENSION.exists():
    pytest.skip("docs are not part of this installation", allow_module_level=True)


def _load_extension():
    spec = importlib.util.spec_from_file_location("_catalogue_ext", EXTENSION)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


catalogue = _load_extension()


@pytest.fixture(scope="module")
def cases():
    return catalogue.collect(ROOT / "tests")


def test_every_case_id_is_well_formed_and_marks_one_test(cases):
    assert len(cases) >= 30
    malformed = [c.id for c in cases if not catalogue.CASE_ID.match(c.id)]
    assert malformed == []
    repeated = [i for i, n in Counter(c.id for c in cases).items() if n > 1]
    assert repeated == [], f"ids on more than one test: {repeated}"


def test_each_case_describes_a_row_or_names_the_row_it_is_part_of(cases):
    row_ids = {c.id for c in cases if c.part_of is None}
    for case in cases:
        where = f"{case.path}::{case.test}"
        if case.part_of is None:
            assert case.input and case.input.strip(), where
            assert case.outcome and case.outcome.strip(), where
        else:
            assert case.input is None and case.outcome is None, where
            assert case.part_of in row_ids, where
            assert case.part_of[0] == case.id[0], where


def test_the_docstring_of_each_marked_test_starts_with_its_id(cases):
    for case in cases:
        tree = ast.parse((ROOT / case.path).read_text(encoding="utf-8"))
        (func,) = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name == case.test
        ]
        doc = ast.get_docstring(func) or ""
        assert doc.startswith(f"{case.id}:"), f"{case.path}::{case.test}"


@pytest.mark.parametrize("section", list(catalogue.SECTIONS))
def test_generated_table_lists_each_row_once_in_id_order(cases, section):
    lines = catalogue.list_table(cases, section)
    listed = re.findall(r"^   \* - (\S+)$", "\n".join(lines), re.M)
    assert listed[0] == "Case"
    expected = [c.id for c in cases if c.part_of is None and c.id[0] == section]
    assert expected, f"no case in section {section}"
    assert listed[1:] == sorted(expected, key=catalogue.sort_key)
    # every row has exactly its three cells: the id, the input, the outcome
    assert sum(line.startswith("     - ") for line in lines) == 2 * len(listed)


def test_sort_key_puts_a_second_case_after_its_first():
    ids = ["E19", "E18b", "E02", "E18", "E10"]
    assert sorted(ids, key=catalogue.sort_key) == ["E02", "E10", "E18", "E18b", "E19"]
    with pytest.raises(ValueError, match="malformed catalogue id"):
        catalogue.sort_key("E1")


def test_the_page_renders_every_section_from_the_markers():
    if not PAGE.exists():
        pytest.skip("docs are not part of this installation")
    text = PAGE.read_text(encoding="utf-8")
    directives = re.findall(r"^\.\. catalogue:: (\S+)$", text, re.M)
    assert sorted(directives) == sorted(catalogue.SECTIONS)
    # no row is kept by hand any more
    assert re.findall(r"^   \* - [EPMLCD]\d\d", text, re.M) == []


@pytest.mark.parametrize(
    "decorator, match",
    [
        ('@pytest.mark.catalogue("E01", input=f"{x}", outcome="y")', "literals"),
        ('@pytest.mark.catalogue("E01", inputs="x", outcome="y")', "unknown"),
        ('@pytest.mark.catalogue("E01", "E02", input="x", outcome="y")', "one case"),
    ],
)
def test_collector_rejects_markers_it_cannot_read(tmp_path, decorator, match):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(f"{decorator}\ndef test_x():\n    pass\n")
    with pytest.raises(ValueError, match=match):
        catalogue.collect(tests)


def test_a_row_without_its_texts_is_an_error(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(
        '@pytest.mark.catalogue("E01")\ndef test_x():\n    pass\n'
    )
    cases = catalogue.collect(tests)
    with pytest.raises(ValueError, match="E01 needs an input and an outcome"):
        catalogue.list_table(cases, "E")
