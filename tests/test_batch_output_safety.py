"""Batch `-o` output that nothing empties, mixes or thins: a kill at any step of putting OUT
in place (a plain and a resumed run), a second run on the same OUT, and inputs whose case
ids repeat, killed and resumed. Real processes; every kill is a SIGKILL, sent by strace at
a chosen system call where the moment matters."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import FIXTURES, ROOT, glob_nonempty
from test_batch import LIBRARY, SEED, _kill_half_way_and_resume

SMALL = (SEED, *glob_nonempty(FIXTURES / "decisions", "*.ttl")[:7])  # 8 cases, 3 chunks: quick runs
# the calls that rename, remove, cut or make durable a file: each one a moment to be killed at
FILE_CALLS = ("rename", "renameat", "renameat2", "unlink", "unlinkat", "ftruncate", "fsync", "fdatasync")


def batch(inputs, out: Path) -> list[str]:
    return [sys.executable, "-m", "reasoner", "decide", "--batch", *map(str, inputs), "--chunk-size", "3", "-o", str(out)]


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def beside(out: Path) -> list[Path]:
    """OUT and every file a batch run keeps beside it (README: OUT.partial, its log, the lock),
    with the temporary files renamed into place (strace -P matches a rename by its source)."""
    return [out, out.with_name(f".{out.name}.tmp"),
            *(out.with_name(out.name + suffix) for suffix in (".partial", ".partial.log", ".partial.log.tmp", ".lock"))]


def strace(files: list[Path], calls: tuple[str, ...], trace: Path, kill_at: tuple[str, int] | None = None) -> list[str]:
    """strace watching `calls` on `files` only, into `trace`; with kill_at=(call, n) the n-th
    such call (counted per call) kills the process before the call is made."""
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed (scripts/test installs Debian's strace)")
    command = ["strace", "-qq", "-o", str(trace), "-e", "trace=" + ",".join(calls)]
    for file in files:
        command += ["-P", str(file)]
    if kill_at:
        command += ["-e", f"inject={kill_at[0]}:signal=KILL:when={kill_at[1]}"]
    return command


def calls_made(trace: Path) -> list[tuple[str, int]]:
    """(call, n) for each call in an strace log: the n-th time that call was made."""
    seen: dict[str, int] = {}
    points = []
    for line in trace.read_text().splitlines():
        call = line.split("(", 1)[0]
        if call in FILE_CALLS:
            seen[call] = seen.get(call, 0) + 1
            points.append((call, seen[call]))
    return points


@pytest.mark.parametrize("name, half_way", [("records.jsonl", False), ("decisions.nq", True)],
                         ids=["plain run", "resumed run"])
def test_a_kill_at_any_step_leaves_the_output_whole(tmp_path, name, half_way):
    """A re-run after a kill anywhere, finishing included, gives exactly the output of a run
    never killed; a finished OUT is never shrunk (it used to become empty, exit 0)."""
    whole = tmp_path / "whole" / name
    whole.parent.mkdir()
    assert run(batch(SMALL, whole)).returncode == 0
    expected = whole.read_bytes()
    start = tmp_path / "start"  # what each run starts from: nothing, or a run killed half-way
    start.mkdir()
    if half_way:
        log = start / f"{name}.partial.log"
        killed = run(strace([log], ("write",), tmp_path / "half.trace", ("write", 3)) + batch(SMALL, start / name))
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert 0 < log.read_text().count("\n") < len(SMALL)
    traced = tmp_path / "traced"
    shutil.copytree(start, traced)
    untouched = run(strace(beside(traced / name), FILE_CALLS, tmp_path / "all.trace") + batch(SMALL, traced / name))
    assert untouched.returncode == 0, untouched.stderr
    points = calls_made(tmp_path / "all.trace")
    made = {call for call, _ in points}
    assert made & {"rename", "renameat", "renameat2"} and made & {"unlink", "unlinkat"}  # OUT put in place, log removed
    for i, point in enumerate(points):
        where = tmp_path / f"killed-{i}"
        shutil.copytree(start, where)
        out = where / name
        killed = run(strace(beside(out), FILE_CALLS, tmp_path / f"{i}.trace", point) + batch(SMALL, out))
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        again = run(batch(SMALL, out))
        assert again.returncode == 0, (point, again.stderr)
        assert out.exists() and out.read_bytes() == expected, f"killed at {point[0]} #{point[1]}"
        assert sorted(p.name for p in where.iterdir()) == [name], point


def test_a_second_run_on_the_same_output_stops_and_writes_nothing(tmp_path):
    """While one run writes OUT, a second on the same OUT exits 2 with one line naming the
    first, changing no file, and the first finishes undisturbed (they used to interleave)."""
    out = tmp_path / "records.jsonl"
    log = tmp_path / "records.jsonl.partial.log"
    command = batch([LIBRARY], out)
    first = subprocess.Popen(command[:-2] + ["--jobs", "2"] + command[-2:], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < 10):
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGSTOP)  # held mid-run: from here only the second run could change a file
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        second = run(command)
        after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        os.killpg(first.pid, signal.SIGCONT)
        _, first_errors = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert second.returncode == 2
    assert second.stderr.splitlines() == [f"guideline-reasoner: error: {out}: is being written by another run "
                                          f"(pid {first.pid})"]
    assert after == before
    assert first.returncode == 0, first_errors
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["case"] for r in records] == sorted(str(p) for p in LIBRARY.glob("*.ttl"))  # each once, in input order


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
