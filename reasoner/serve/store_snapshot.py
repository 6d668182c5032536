"""A point-in-time copy of the on-disk store for `serve`, so every query worker (and every
worker started later to replace one that was stopped) answers from the same state.

Workers that each opened the live store read-only saw it as it was when they started: after
a `load`, a replaced worker answered from the new state and the others from the old. A
RocksDB checkpoint (`Store.backup`: hard links to the immutable table files when the copy is
on the same file system, so it costs almost no time or space) fixes one state for all.

What it holds is what the store had written to its table files: a `load` flushes when it
ends, so every finished `load` is in; one still running may not be."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from reasoner.errors import InputError


def take_snapshot(store: Path) -> Path:
    """A new snapshot folder of `store` (beside it when possible, for hard links); the caller
    removes it with `remove_snapshot`."""
    import pyoxigraph as ox

    try:
        holder = Path(tempfile.mkdtemp(prefix=".serve-snapshot-", dir=store.parent))
    except OSError:  # the store's folder is not writable: copy to the temporary folder
        holder = Path(tempfile.mkdtemp(prefix="guideline-reasoner-snapshot-"))
    target = holder / "store"
    try:
        ox.Store.read_only(str(store)).backup(str(target))
    except OSError as exc:
        shutil.rmtree(holder, ignore_errors=True)
        raise InputError(str(store), f"cannot take a snapshot of the store ({exc})") from None
    return target


def remove_snapshot(snapshot: Path) -> None:
    shutil.rmtree(snapshot.parent, ignore_errors=True)
