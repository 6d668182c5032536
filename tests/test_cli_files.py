"""Files that are not what a command can safely read or write: a pipe or device named as a
case or letter (it would block or never end) is refused at once; an output that is also
an input is refused and the input is left as it was; a --labels file into a missing folder
is refused before the case file is written. Each is one line, exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import ROOT

SEED = ROOT / "examples" / "seed-case.ttl"


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "reasoner", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def one_line_error(result, *words):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_a_pipe_named_as_a_case_or_letter_is_refused_at_once(tmp_path):
    pipe = tmp_path / "case.ttl"
    os.mkfifo(pipe)
    one_line_error(run("decide", pipe, timeout=60), str(pipe), "not a regular file")
    letter = tmp_path / "letter.txt"
    os.mkfifo(letter)
    one_line_error(run("import-letter", letter, timeout=60), str(letter), "not a regular file")


def test_a_device_named_as_a_case_is_refused(tmp_path):
    device = tmp_path / "zero.ttl"
    os.symlink("/dev/zero", device)
    one_line_error(run("decide", device, timeout=60), str(device), "not a regular file")


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path):
    case = tmp_path / "seed.ttl"
    shutil.copy(SEED, case)
    before = case.read_bytes()
    one_line_error(run("decide", case, "-o", case), str(case), "is also an input")
    assert case.read_bytes() == before
    one_line_error(run("report", case, "-o", case), str(case), "is also an input")
    assert case.read_bytes() == before


def test_labels_into_a_missing_folder_write_no_case_file(tmp_path):
    letter = ROOT.parent / "shared" / "seed" / "imr-determination-chiropractic-pt-massage.txt"
    if not letter.is_file():
        import pytest

        pytest.skip("../shared/seed is not beside the checkout")
    case = tmp_path / "case.ttl"
    one_line_error(run("import-letter", letter, "-o", case, "--labels", tmp_path / "missing" / "labels.json"),
                   "labels.json", "folder does not exist")
    assert not case.exists()


def test_a_reader_that_stops_early_ends_the_run_quietly():
    """decide --batch ... | head: the pipe closes and the run stops with no traceback."""
    with subprocess.Popen([sys.executable, "-m", "reasoner", "decide", "--batch", str(ROOT / "tests" / "case-library")],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.readline()
        process.stdout.close()  # what head does after its first line
        _, err = process.communicate(timeout=300)
    assert process.returncode == 141, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_a_byte_order_mark_is_read_as_no_text(tmp_path):
    """Some editors begin UTF-8 files with a byte-order mark; the case is the same case,
    single and in a batch (a folder and JSON lines)."""
    import json

    plain = json.loads(run("decide", str(SEED), "--format", "json").stdout)["decisions"]
    folder = tmp_path / "cases"
    folder.mkdir()
    for source in (SEED, ROOT / "examples" / "seed-case.jsonld"):
        marked = folder / source.name
        marked.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
        single = run("decide", str(marked), "--format", "json")
        assert single.returncode == 0, single.stderr
        assert [d["outcome"] for d in json.loads(single.stdout)["decisions"]] == [d["outcome"] for d in plain]
    lines = tmp_path / "cases.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + json.dumps(json.loads((ROOT / "examples" / "seed-case.jsonld").read_text())).encode() + b"\n")
    for batch_input in (folder, lines):
        batch = run("decide", "--batch", str(batch_input))
        records = [json.loads(line) for line in batch.stdout.splitlines()]
        assert records and all("decisions" in r for r in records), batch.stdout
