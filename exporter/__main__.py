"""`python -m exporter` runs the exporter, exactly like the `digitalocean-exporter` script."""

import sys

from exporter.cli import main

sys.exit(main())
