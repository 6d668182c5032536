"""Outputs that cannot be written, and output names that say another format. A full disk
(a real tmpfs of a few kilobytes, or /dev/full), a read-only folder, a device named as the
output: one line naming the output, exit 2, no traceback, nothing left behind (the device
itself is never replaced by a file). `-o out.csv` and `--format json -o r.txt` are refused;
without --format the suffix chooses the format."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_cli_files import one_line_error, run

SEED = ROOT / "examples" / "seed-case.ttl"
LETTER = ROOT.parent / "shared" / "seed" / "imr-determination-chiropractic-pt-massage.txt"


def in_mount_namespace(script: str, timeout=300) -> subprocess.CompletedProcess:
    """`script` (sh) in a private mount namespace, where a tiny or read-only tmpfs can be
    mounted without root and vanishes with the process; skipped where namespaces are off."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("no unprivileged mount namespaces here")
    return subprocess.run(["unshare", "-rm", "sh", "-ec", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def command(*args) -> str:
    return " ".join([sys.executable, "-m", "reasoner", *map(str, args)])


def test_a_full_disk_is_one_line_and_leaves_no_file(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    result = in_mount_namespace(f"""
        mount -t tmpfs -o size=8k tmpfs {full}
        {command("decide", SEED, "--format", "turtle", "-o", full / "decisions.ttl")} 2>{tmp_path}/err || echo "exit $?" >{tmp_path}/rc
        ls -A {full} >{tmp_path}/left""")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rc").read_text().split() == ["exit", "2"]
    err = (tmp_path / "err").read_text()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "decisions.ttl: cannot write (No space left on device)" in err
    assert (tmp_path / "left").read_text() == ""  # not even the temporary file


def test_a_full_disk_under_a_batch_keeps_the_records_for_a_rerun(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    result = in_mount_namespace(f"""
        mount -t tmpfs -o size=8k tmpfs {full}
        {command("decide", "--batch", ROOT / "tests" / "case-library", "-o", full / "out.jsonl")} 2>{tmp_path}/err \
            || echo "exit $?" >{tmp_path}/rc""")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rc").read_text().split() == ["exit", "2"]
    err = (tmp_path / "err").read_text()
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].endswith("out.jsonl: cannot write (No space left on device); the cases "
                                                 "decided so far are kept in out.jsonl.partial and a re-run resumes")


def test_a_full_store_disk_is_one_line(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    result = in_mount_namespace(f"""
        mount -t tmpfs -o size=3m tmpfs {full}
        {command("load", SEED, "--store", full / "store")} 2>{tmp_path}/err || echo "exit $?" >{tmp_path}/rc""")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rc").read_text().split() == ["exit", "2"]
    err = (tmp_path / "err").read_text()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "store" in err and "No space left on device" in err


def test_a_read_only_folder_is_one_line_for_every_output(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    result = in_mount_namespace(f"""
        mount -t tmpfs -o ro tmpfs {ro}
        for out in decisions.json report.html case.ttl; do
            case $out in
                decisions.json) set -- decide {SEED} ;;
                report.html) set -- report {SEED} ;;
                case.ttl) set -- import-letter {LETTER} ;;
            esac
            {sys.executable} -m reasoner "$@" -o {ro}/$out 2>{tmp_path}/$out.err || echo $? >{tmp_path}/$out.rc
        done""")
    assert result.returncode == 0, result.stderr
    for out in ("decisions.json", "report.html") + (("case.ttl",) if LETTER.is_file() else ()):
        assert (tmp_path / f"{out}.rc").read_text().strip() == "2", out
        err = (tmp_path / f"{out}.err").read_text()
        assert err.strip().splitlines() == [f"guideline-reasoner: error: {ro}/{out}: cannot write (Read-only file system); "
                                            "nothing written"], err


def test_labels_that_cannot_be_written_leave_no_case_file(tmp_path):
    if not LETTER.is_file():
        pytest.skip("../shared/seed is not beside the checkout")
    ro = tmp_path / "ro"
    ro.mkdir()
    case = tmp_path / "case.ttl"
    result = in_mount_namespace(f"""
        mount -t tmpfs -o ro tmpfs {ro}
        {command("import-letter", LETTER, "-o", case, "--labels", ro / "labels.json")} 2>{tmp_path}/err || true""")
    assert result.returncode == 0, result.stderr
    assert "labels.json: cannot write (Read-only file system)" in (tmp_path / "err").read_text()
    assert not case.exists()


def device(folder: Path, name: str) -> Path:
    """/dev/full or /dev/null, or, as root (who could replace the real one with a file if
    the code under test renamed over it), a private node of the same device."""
    if os.geteuid() != 0:
        return Path("/dev") / name
    node = folder / name
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, {"null": 3, "full": 7}[name]))
    return node


def test_a_full_device_as_the_output_is_disk_full_and_the_device_stays(tmp_path):
    full = device(tmp_path, "full")
    one_line_error(run("decide", SEED, "-o", full), str(full), "No space left on device")
    assert stat.S_ISCHR(full.stat().st_mode)  # a rename would have put a file in its place
    assert sorted(tmp_path.iterdir()) in ([], [full])


def test_dev_null_and_standard_output_as_the_output_are_written_to(tmp_path):
    result = run("decide", SEED, "--format", "json", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["decisions"][0]["case"] == str(SEED)
    null = device(tmp_path, "null")
    assert run("decide", SEED, "-o", null).returncode == 0
    assert stat.S_ISCHR(null.stat().st_mode)


def test_a_full_standard_output_is_one_line(tmp_path):
    with open(device(tmp_path, "full"), "w") as full:
        result = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(SEED)], cwd=ROOT, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["guideline-reasoner: error: standard output: cannot write "
                                                  "(No space left on device)"]


@pytest.mark.parametrize("args, out, words", [
    (("decide", SEED), "out.csv", ["unknown output type '.csv'", ".txt (text), .json (json), .ttl (turtle), .jsonld (json-ld)"]),
    (("decide", SEED, "--format", "json"), "r.txt", ["names text output but --format is json", "name it .json"]),
    (("decide", SEED, "--format", "turtle"), "r.jsonld", ["names json-ld output but --format is turtle"]),
    (("decide", "--batch", SEED), "out.csv", ["unknown output type '.csv'", ".jsonl", ".nq"]),
    (("decide", "--batch", SEED, "--format", "json"), "out.jsonl", ["--format", "does not apply to --batch"]),
    (("validate", SEED, "--format", "turtle"), "report.json", ["unknown output type '.json'"]),
    (("report", SEED, "--format", "html"), "report.md", ["names markdown output but --format is html"]),
    (("report", SEED), "report.pdf", ["unknown output type '.pdf'", ".html (html), .md (markdown)"]),
    (("evaluate", ROOT / "tests", "--format", "json"), "evaluation.md", ["names markdown output but --format is json"]),
])
def test_an_output_name_for_another_format_is_refused(tmp_path, args, out, words):
    target = tmp_path / out
    result = run(*args, "-o", target)
    one_line_error(result, *words)
    assert list(tmp_path.iterdir()) == []


def test_an_import_letter_output_or_labels_of_another_type_is_refused(tmp_path):
    one_line_error(run("import-letter", SEED, "-o", tmp_path / "case.txt"), "unknown output type '.txt'", ".ttl (turtle)")
    one_line_error(run("import-letter", SEED, "--labels", tmp_path / "labels.csv"), "labels.csv", ".json (json)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, out, check", [
    (("decide", SEED), "decisions.json", lambda text: json.loads(text)["decisions"]),
    (("decide", SEED), "decisions.ttl", lambda text: "gr:Decision" in text),
    (("decide", SEED), "decisions.jsonld", lambda text: json.loads(text)["@context"]),
    (("decide", SEED), "decisions.txt", lambda text: text.startswith(str(SEED))),
    (("decide", SEED, "--format", "json"), "decisions", lambda text: json.loads(text)["decisions"]),
    (("validate", SEED), "report.ttl", lambda text: "sh:ValidationReport" in text),
    (("report", SEED), "report.HTML", lambda text: text.startswith("<!doctype html>")),
])
def test_the_suffix_chooses_the_format_when_none_is_given(tmp_path, args, out, check):
    result = run(*args, "-o", tmp_path / out)
    assert result.returncode in (0, 1), result.stderr  # validate: 1, requirements unmet
    assert check((tmp_path / out).read_text())


def test_labels_onto_the_case_file_are_refused(tmp_path):
    """--labels x.json -o x.json wrote the case, then the labels over it."""
    same = tmp_path / "same.json"
    one_line_error(run("import-letter", SEED, "-o", same, "--labels", same), "same.json", "is also the -o output")
    assert not same.exists()


def test_a_closed_standard_output_is_one_line():
    result = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(SEED)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=120, pass_fds=(),
                            preexec_fn=lambda: os.close(1))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["guideline-reasoner: error: standard output: is closed; give -o FILE"]
