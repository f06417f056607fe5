"""``python -m hexaccess``: the command line (:func:`hexaccess.cli.main`)."""

import sys

from hexaccess.cli import main

sys.exit(main())
