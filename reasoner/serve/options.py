"""Checks of `serve`'s options, made before anything starts: a setting that would quietly
weaken the endpoint (an empty token turning authentication off, a wildcard CORS origin,
an address other machines reach) is an error or a warning, and a port that cannot be
listened on is reported as one line before the "endpoint on" line, not as a traceback
after it."""

from __future__ import annotations

import ipaddress
import re
import socket

from reasoner.errors import InputError

TOKEN_ENV = "GUIDELINE_REASONER_TOKEN"
# an origin as browsers send it: scheme://host[:port], no path (RFC 6454)
ORIGIN = re.compile(r"^https?://[^/?#\s]+$")


def checked_token(given: str | None, environ: dict[str, str]) -> str | None:
    """The bearer token from --token or the environment; an empty one is an error, since
    it would read as "no token" and leave every route open."""
    if given is not None:
        if not given.strip():
            raise InputError("--token", "is empty; an empty token would turn authentication off "
                                        "(leave --token out to serve without one)")
        return given
    from_env = environ.get(TOKEN_ENV)
    if from_env is not None and not from_env.strip():
        raise InputError(TOKEN_ENV, "is set but empty; an empty token would turn authentication off "
                                    "(unset it to serve without one)")
    return from_env


def checked_numbers(workers: int, timeout: float, max_result_mb: int) -> None:
    if workers < 1:
        raise InputError("--workers", f"{workers}: at least one query worker is needed")
    if not timeout > 0:
        raise InputError("--timeout", f"{timeout:g}: give a number of seconds above 0")
    if max_result_mb < 1:
        raise InputError("--max-result-mb", f"{max_result_mb}: give at least 1")


def checked_origins(origins: list[str]) -> list[str]:
    for origin in origins:
        if origin != "*" and not ORIGIN.match(origin):
            raise InputError("--cors", f"{origin!r} is not an origin (scheme://host[:port], e.g. "
                                       "https://yasgui.example.org), nor *")
    return origins


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def warnings(host: str, token: str | None, origins: list[str]) -> list[str]:
    """One line each for settings that expose the store's health data."""
    out = []
    if not is_loopback(host):
        out.append(f"--host {host} is reachable from other machines and no --token is set: the health data "
                   "in the store is exposed to anyone who can connect" if token is None else
                   f"--host {host} is reachable from other machines over plain HTTP: the token and the health "
                   "data cross the network unencrypted (put a TLS proxy in front)")
    if "*" in origins:
        out.append("--cors '*': any web page a user opens may query the store from their browser")
    return out


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or an InputError naming the port."""
    if not 1 <= port <= 65535:
        raise InputError("--port", f"{port} is not a TCP port (1-65535)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                              flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise InputError("--host", f"{host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does; a live listener still blocks
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InputError("--port", f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock
