"""`python -m app` is the `gridhall` command."""

import signal
import sys


def _gridhall() -> int:
    try:
        from app.cli import main
    except KeyboardInterrupt:  # Ctrl+C while the program was still loading: nothing was done yet
        print("gridhall: interrupted while starting; nothing was done", file=sys.stderr)
        return 130
    code = main()  # Ctrl+C, a broken pipe and every failure are one line in there
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the work is done: a late Ctrl+C must not turn into a traceback
    return code


sys.exit(_gridhall())
