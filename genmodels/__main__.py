"""``python -m genmodels``: the same as the ``genmodels`` command."""

import sys

from genmodels.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
