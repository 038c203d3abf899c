#!/usr/bin/env python3
"""Start the GridHall desktop client: `python main.py [--db URL] [--screenshot out.png]`."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
