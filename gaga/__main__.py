"""``python -m gaga``: the ``gaga`` command line (see :mod:`gaga._cli`)."""

import sys

from gaga._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
