"""The on-disk cache of what a cold start would otherwise rebuild (the knowledge base's
OWL RL closure, compiled shapes, the input rules read from the knowledge base): files in
$XDG_CACHE_HOME/guideline-reasoner/ (~/.cache/ when unset), each named by a hash of
everything it is made from, so a changed input is a new name and never a stale file. A
cache that cannot be written costs the time, never the answer."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guideline-reasoner"


def read(name: str) -> bytes | None:
    try:
        return (cache_dir() / name).read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Through a temporary file and a rename: a reader sees the whole file or none."""
    path = cache_dir() / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only home only costs the cache, never the answer


def key(*parts: bytes | str) -> str:
    """A short hash of the parts (file contents, versions), for a cache file's name."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:16]


def code_of(*modules: str) -> bytes:
    """The source of these modules (found, not imported): a cache built by code is keyed
    by that code too, so a changed module never reads what the old one wrote."""
    parts = []
    for name in modules:
        spec = find_spec(name)
        parts.append(Path(spec.origin).read_bytes() if spec and spec.origin else name.encode())
    return b"\0".join(parts)
