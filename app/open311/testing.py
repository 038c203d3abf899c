"""Start the Open311 server on a free loopback port for tests and benchmarks (real HTTP, real uvicorn).

    with running_server(db_url, clock=FixedClock(...)) as base_url:
        urllib.request.urlopen(base_url + "/services.json")

The server runs in a thread of the calling process (its own event loop); leaving the block stops it
and waits for it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.open311.server import make_app

#: The request line and headers (uvicorn answers a plain 400 past it): room for a GET requests query
#: with thousands of ids, which the application then refuses with the spec's errors body.
MAX_HEAD_BYTES = 256 * 1024


def serve(app: Any, sock: socket.socket, *, log_level: str = "warning") -> Any:
    """A uvicorn server for ``app`` on the bound socket ``sock`` (not started)."""
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on", timeout_keep_alive=5,
                            limit_concurrency=200, h11_max_incomplete_event_size=MAX_HEAD_BYTES)
    return uvicorn.Server(config)


@contextmanager
def running_server(db_url: str, *, host: str = "127.0.0.1", app: Any = None, **kwargs: Any) -> Iterator[str]:
    """Run ``make_app(db_url, **kwargs)`` (or ``app``) on a free port of ``host``; yields the base URL."""
    application = app if app is not None else make_app(db_url, **kwargs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = serve(application, sock)
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="open311-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise RuntimeError("the Open311 server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


__all__ = ["running_server", "serve"]
