"""``python -m skcosim``: the same as the ``skcosim`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # not on import (pytest's doctest collection imports it)
    sys.exit(main())
