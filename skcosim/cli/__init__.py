"""The ``skcosim`` command line: reproduce the paper, audit your own data.

``skcosim reproduce`` fits, on simulated clustered interactions, Objective 1
under its named splits and a random gauge, Objective 2, the model trained
for cosine and the projection of the paper's second remedy; it writes a
Figure-1 style PNG and a report (Markdown and JSON) and prints the table.
``skcosim audit`` does the same on your own interaction log (CSV or Parquet)
and lists the top neighbours of popular items under every model side by
side.

Run ``skcosim --help`` or ``skcosim COMMAND --help`` for the options.

Each command runs the same steps, one module each: parse the arguments
(``_parser``), build a ``Report`` (``_reproduce``, ``_audit``: the data, then
the models of ``_models``), render it as Markdown, JSON and a PNG
(``_report``, ``_figure``) and write its files together (``_run``,
``_output``).
"""

from ._main import main

# The public surface is the command itself (``main``, the console script).
__all__ = ["main"]
