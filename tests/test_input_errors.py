"""Bad input: every file in tests/fixtures/bad-input/ must give one clear line naming the
file and the field (expected.json lists the fragments), exit code 2 and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT

BAD = FIXTURES / "bad-input"
EXPECTED = json.loads((BAD / "expected.json").read_text())


def test_every_bad_input_file_has_an_expectation():
    on_disk = {p.name for p in BAD.iterdir() if p.is_file() and p.name != "expected.json"}
    assert on_disk, "no bad-input fixtures found"
    assert on_disk <= set(EXPECTED), f"fixtures without expected errors: {sorted(on_disk - set(EXPECTED))}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_is_one_clear_error(name):
    path = BAD / name
    run = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert str(path) in lines[0]
    for fragment in EXPECTED[name]:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def test_error_in_one_output_leaves_no_file(tmp_path):
    out = tmp_path / "decisions.json"
    run = subprocess.run([sys.executable, "-m", "reasoner", "decide", str(ROOT / "examples" / "seed-case.ttl"),
                          str(BAD / "empty.ttl"), "--format", "json", "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


GENERATED = BAD / "generated"
GENERATED_EXPECTED = json.loads((GENERATED / "expected.json").read_text())


def test_generated_corpus_is_current_and_large_enough():
    from build_bad_inputs import cases

    assert set(cases()) == set(GENERATED_EXPECTED)
    assert len(GENERATED_EXPECTED) + len(EXPECTED) >= 100


@pytest.mark.parametrize("name", sorted(GENERATED_EXPECTED))
def test_generated_bad_input_is_one_clear_error(name, capsys):
    from reasoner.cli import main

    path = GENERATED / name
    assert main(["decide", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert str(path) in lines[0]
    for fragment in GENERATED_EXPECTED[name]:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
