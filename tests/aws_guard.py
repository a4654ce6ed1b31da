"""No test reaches AWS itself: the machine has no account and no internet, and a client sent there (a wrong or missing
endpoint) would only show as a 503 somewhere later. While :func:`installed`, a name under amazonaws.com is refused at
resolution; ``tests/conftest.py`` fails the test running when it was asked for (:data:`ASKED`).

What counts is what a test can answer for: a lookup on the test's own thread, or on any thread while a local runtime
runs. A background thread of a runtime already stopped (a state machine's execution going on after moto left; the
runtime waits for the running invocations before it stops: ``LambdaBridge.drain``) is reported on stderr instead
(:data:`STRAYED`): it is not the fault of whichever test happens to run then."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infra.local.bridge import bridge_installed

ASKED: list[str] = []  # the AWS names a test asked for since the last take()
STRAYED: list[str] = []  # the AWS names asked for by threads of a stopped runtime
_resolve = socket.getaddrinfo


def _resolve_but_never_aws(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "amazonaws.com" or name.endswith(".amazonaws.com"):
        thread = threading.current_thread()
        if thread is threading.main_thread() or bridge_installed():
            ASKED.append(name)
        else:
            STRAYED.append(name)
            print(f"aws_guard: thread {thread.name!r} of a stopped runtime asked for {name}", file=sys.stderr)
        raise socket.gaierror(socket.EAI_NONAME, f"tests never reach AWS itself ({name})")
    return _resolve(host, *args, **kwargs)


@contextmanager
def installed() -> Iterator[None]:
    socket.getaddrinfo = _resolve_but_never_aws
    try:
        yield
    finally:
        socket.getaddrinfo = _resolve


def take() -> list[str]:
    """The names asked for since the last call, each once; forgets them."""
    names = sorted(set(ASKED))
    ASKED.clear()
    return names
