"""The on-disk cache of what a cold start would otherwise rebuild (the knowledge base's
OWL RL closure, compiled shapes, the input rules read from the knowledge base): files in
$XDG_CACHE_HOME/guideline-reasoner/ (~/.cache/ when unset), each named by a hash of
everything it is made from, so a changed input is a new name and never a stale file. A
cache that cannot be written costs the time, never the answer. Each kind of file (the
name before its hash) keeps its KEEP most recently used versions: a new one pushes out the
least recently used, so editing the knowledge base all day does not fill the disk, while
a few checkouts of different versions sharing the cache do not push each other out."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path


KEEP = 4  # versions kept per kind of file


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guideline-reasoner"


def read(name: str) -> bytes | None:
    path = cache_dir() / name
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        os.utime(path)  # used now: the last to be pushed out
    except OSError:
        pass
    return data


def write(name: str, data: bytes) -> None:
    """Through a temporary file and a rename: a reader sees the whole file or none."""
    path = cache_dir() / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
        _evict(path)
    except OSError:
        pass  # a read-only home only costs the cache, never the answer


def _evict(written: Path) -> None:
    """Remove the versions of `written`'s kind beyond the KEEP most recently used."""
    kind = written.name.rsplit("-", 1)[0]
    versions = []
    for path in written.parent.glob(f"{kind}-*"):
        if path.name.rsplit("-", 1)[0] == kind and path != written:
            try:
                versions.append((path.stat().st_mtime, path))
            except OSError:
                continue  # removed meanwhile by another process
    for _, path in sorted(versions, reverse=True)[KEEP - 1:]:
        try:
            path.unlink()
        except OSError:
            pass


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
