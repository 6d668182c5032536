"""Batch `-o` output that nothing thins: inputs whose case ids repeat, killed and resumed.
Real processes, killed with SIGKILL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT
from test_batch import LIBRARY, _kill_half_way_and_resume


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _nquads_files_sharing_graph_names(folder: Path) -> tuple[Path, Path]:
    """The case library as N-Quads, one graph per case, twice over in two files."""
    quads = []
    for case in sorted(LIBRARY.glob("*.ttl")):
        graph = ox.NamedNode(f"urn:example:case:{case.stem}")
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in ox.parse(path=str(case))]
    first, second = folder / "first.nq", folder / "second.nq"
    first.write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    second.write_bytes(first.read_bytes())
    return first, second


@pytest.mark.parametrize("name", ["records.jsonl", "decisions.nq"], ids=["folder twice", "N-Quads graphs twice"])
def test_resume_keeps_both_records_of_a_case_given_twice(tmp_path, name):
    """Each input case gets its record, also when its id repeats; a killed and resumed run
    gives what an uninterrupted one gives (it used to drop the second of each pair)."""
    inputs = (LIBRARY, LIBRARY) if name.endswith(".jsonl") else _nquads_files_sharing_graph_names(tmp_path)
    resumed, _ = _kill_half_way_and_resume(tmp_path, name, inputs)
    whole = tmp_path / f"whole-{name}"
    uninterrupted = run([sys.executable, "-m", "reasoner", "decide", "--batch", *map(str, inputs), "-o", str(whole)])
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    if name.endswith(".jsonl"):
        records = [json.loads(line) for line in whole.read_text().splitlines()]
        assert [r["case"] for r in records] == sorted(str(p) for p in LIBRARY.glob("*.ttl")) * 2
    else:
        lines = whole.read_text().splitlines()
        assert len(lines) % 2 == 0 and lines[:len(lines) // 2] == lines[len(lines) // 2:]
    assert resumed.read_bytes() == whole.read_bytes()
