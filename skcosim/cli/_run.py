"""The steps that every command shares: build a report, render it, write it.

A command is a function that builds a :class:`~skcosim.cli._report.Report`
from the parsed arguments, announcing its steps to a progress display;
:func:`run_command` does the rest the same way for ``reproduce`` and
``audit``: output directory (checked, locked, replaced as one set), progress,
figure, summary.
"""

import contextlib
import sys
import time

from . import _figure, _models
from ._output import open_output
from ._progress import StepProgress
from ._report import text_table
from ._settings import AUDIT_FACTORS_FILES, AUDIT_FILES, REPRODUCE_FILES

#: Every file a report of any command leaves in its directory.
REPORT_NAMES = (
    frozenset(REPRODUCE_FILES.values())
    | frozenset(AUDIT_FILES.values())
    | frozenset(AUDIT_FACTORS_FILES.values())
)


def show_progress(args):
    """Progress goes to standard error, and only to a terminal: piped or
    logged output, and error messages, stay free of progress lines."""
    return not args.no_progress and sys.stderr.isatty()


def run_command(args, build, names, n_steps=None):
    """Build the report of a command, write it into ``args.out`` and print
    its summary.

    ``build(args, progress)`` computes the :class:`Report` (one progress step
    for the data, one per model); ``names`` are the file names of its
    Markdown (``"md"``), JSON (``"json"``) and figure (``"figure"``). The
    output directory is checked and locked first, and replaced as one set
    (:mod:`skcosim.cli._output`). ``n_steps`` is the number of progress
    steps before the figure (default: the data and each model of
    :func:`~skcosim.cli._models.default_models`). Returns the exit status, 0.
    """
    start = time.perf_counter()
    with open_output(args.out, REPORT_NAMES) as out:
        draw_png = _figure.has_matplotlib()
        if n_steps is None:
            n_steps = 1 + len(_models.default_models(1, 1.0, random_state=None))
        progress = StepProgress(n_steps + draw_png, enabled=show_progress(args))
        with contextlib.ExitStack() as stack:
            # Closed before any error message: tqdm clears its line (leave=False).
            stack.callback(progress.close)
            report = build(args, progress)
            png = None
            if draw_png:
                progress.step(report.figure_step)
                png = report.figure()
                progress.advance()
        written = write_report(report, out, names, png)
    print_summary(report, written, time.perf_counter() - start, draw_png)
    return 0


def write_report(report, out, names, png):
    """Render ``report`` (Markdown, JSON, the ``png`` figure if any) and put
    its files in place of the :class:`OutputDirectory` ``out``'s; returns
    their paths. An earlier figure does not survive a run without one."""
    figure = names["figure"] if png is not None else None
    files = {
        names["md"]: report.to_markdown(figure),
        names["json"]: report.to_json(figure),
    }
    if png is not None:
        files[names["figure"]] = png
    files.update(report.files)
    return out.write(files, replaces=names.values())


def print_summary(report, written, seconds, drew_png):
    """The end of a run on standard output: the table, warnings, files."""
    print(text_table(report.rows))
    print()
    for warning in report.warnings:
        print(f"warning: {warning}")
    if report.verdict is not None:
        print(f"verdict: {report.verdict['level']}: {report.verdict['text']}")
        for step in report.verdict["next_steps"]:
            print(f"next step: {step}")
    for path in written:
        print(f"wrote {path}")
    if not drew_png:
        print("no figure: install matplotlib (pip install 'skcosim[plot]')")
    print(f"done in {seconds:.1f} s")
