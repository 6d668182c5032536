"""The SPARQL files of queries/, read once and grouped into the pipeline's stages.

A stage is a folder; its queries run in file-name order, and each CONSTRUCT's result is
added to the store before the next one runs, so later queries read earlier results."""

from __future__ import annotations

import re
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

    def as_insert(self, *graphs: str) -> str:
        """This CONSTRUCT as a SPARQL Update that inserts its result into the store (the
        default graph, and each named graph given), so a pipeline can keep what it derives
        inside the store instead of moving every triple through Python."""
        code = "\n".join(line for line in self.text.splitlines() if not line.lstrip().startswith("#"))
        match = re.search(r"\bCONSTRUCT\s*\{", code)
        if match is None:
            raise ValueError(f"{self.name}: not a CONSTRUCT query")
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            end += 1
        template = code[match.end():end - 1]
        targets = template + "".join(f" GRAPH <{g}> {{ {template} }}" for g in graphs)
        return f"{code[:match.start()]}INSERT {{ {targets} }}{code[end:]}"


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
