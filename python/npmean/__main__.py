"""``python -m npmean``: the command line (``npmean --help``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
