"""``python -m skcosim``: the same as the ``skcosim`` command."""

import sys

from .cli import main

sys.exit(main())
