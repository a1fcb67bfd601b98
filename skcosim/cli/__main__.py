"""``python -m skcosim.cli``: the same as the ``skcosim`` command."""

import sys

from . import main

if __name__ == "__main__":  # not on import (pytest's doctest collection imports it)
    sys.exit(main())
