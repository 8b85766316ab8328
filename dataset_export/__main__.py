"""``python -m dataset_export``: see :mod:`dataset_export.cli`."""

import sys

from dataset_export.cli import main

sys.exit(main())
