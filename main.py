#!/usr/bin/env python3
"""Start the GridHall desktop client: `python main.py [--db URL] [--screenshot out.png]`."""

import sys

from app.cli import main

if __name__ == "__main__":
    if "--wall" in sys.argv[1:]:  # python main.py --wall [wall options]: the video wall
        sys.exit(main(["wall", *(a for a in sys.argv[1:] if a != "--wall")]))
    sys.exit(main(["run", *sys.argv[1:]]))
