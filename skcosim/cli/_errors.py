"""The error of a command that is the user's to fix."""


class CommandError(Exception):
    """A user error: bad input data, arguments or environment.

    ``main`` prints it on one line, without a traceback, and exits 1. Every
    step that reads what the user gave raises it (the audit turns the
    loader's ``ValueError`` / ``TypeError`` / ``ImportError`` into it); any
    other exception is a bug and keeps its traceback.
    """
