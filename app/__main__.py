"""`python -m app` is the `gridhall` command."""

import sys

from app.cli import main

sys.exit(main())
