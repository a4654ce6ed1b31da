"""No test reaches AWS itself: the machine has no account and no internet, and a client sent there (a wrong or missing
endpoint) would only show as a 503 somewhere later. While :func:`installed`, a name under amazonaws.com is refused at
resolution and kept in :data:`ASKED`; ``tests/conftest.py`` fails the test running when it was asked for."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ASKED: list[str] = []  # the AWS names asked for since the last take()
_resolve = socket.getaddrinfo


def _resolve_but_never_aws(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "amazonaws.com" or name.endswith(".amazonaws.com"):
        ASKED.append(name)
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
