"""``python -m sklearn_ae``: the command line (see :mod:`sklearn_ae._cli`)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
