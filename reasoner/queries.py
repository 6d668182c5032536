"""The SPARQL files of queries/, read once and grouped into the pipeline's stages.

A stage is a folder; its queries run in file-name order, and each CONSTRUCT's result is
added to the store before the next one runs, so later queries read earlier results."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reasoner.paths import QUERIES_DIR

# Stages in pipeline order. Validation (SHACL) runs between "checks" and "decisions".
DERIVATION_STAGES = ("applicability", "facts", "checks")
DECISION_STAGES = ("decisions",)


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    text: str


@lru_cache(maxsize=None)
def stage(name: str, root: Path = QUERIES_DIR) -> tuple[Query, ...]:
    folder = root / name
    files = sorted(folder.glob("*.rq"))
    if not files:
        raise FileNotFoundError(f"no queries in {folder}")
    return tuple(Query(f"{name}/{p.stem}", p, p.read_text(encoding="utf-8")) for p in files)


def query(relative: str, root: Path = QUERIES_DIR) -> Query:
    path = root / relative
    return Query(relative.removesuffix(".rq"), path, path.read_text(encoding="utf-8"))
