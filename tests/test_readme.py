"""The README's example runs and prints what its comments say."""

import re
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_setup_commands():
    bash = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert [b.strip() for b in bash] == [
        'pip install ".[plot,progress]" && skcosim reproduce',
        'pip install -e ".[tests]" && python -m pytest',
    ]


@pytest.mark.slow
def test_readme_example_prints_what_it_claims():
    (code,) = _python_blocks()
    out = StringIO()
    with redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    ratio, overlap, stabilities = out.getvalue().strip().splitlines()
    assert float(ratio) == pytest.approx(1.0, rel=1e-9)
    assert float(overlap) < 0.2  # the comment says 9 %
    dropout_stability, weight_decay_stability = map(float, stabilities.split())
    assert dropout_stability < 0.3  # the comment says 0.15
    assert weight_decay_stability == 1.0
