"""The README tells the truth: every command block it shows is run and compared with the
output it shows, the JSON excerpt is the program's, the SPARQL endpoint example answers
what it says, the command table names every option, and the list of requirement ids is
the knowledge base's.

Commands run in a scratch folder that links to the checkout's files (and to `../shared`
beside it), so following the README writes nothing into the checkout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"


@dataclass
class Block:
    language: str
    text: str
    line: int  # where it opens in the README


def blocks() -> list[Block]:
    found, lines = [], README.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            language, start = lines[i][3:].strip(), i
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            found.append(Block(language, "\n".join(lines[i + 1:j]), start + 1))
            i = j
        i += 1
    return found


def transcripts() -> list[Block]:
    """Blocks that show a shell session: `$ command` lines, each followed by its output."""
    return [b for b in blocks() if not b.language and b.text.startswith("$ ")]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder laid out like the checkout (links to its files, `../shared` beside it) and a
    `guideline-reasoner` on PATH that is this interpreter running this checkout."""
    work = tmp_path / "repo"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".git", "tests") and not entry.name.startswith("."):
            (work / entry.name).symlink_to(entry)
    (work / "tests").symlink_to(ROOT / "tests")
    if SHARED.exists():
        (tmp_path / "shared").symlink_to(SHARED)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "guideline-reasoner"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reasoner "$@"\n')
    shim.chmod(0o755)
    return work


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{cwd.parent / 'bin'}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def sessions(block: Block) -> list[tuple[str, str]]:
    """(command, shown output) pairs of a transcript block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            pairs[-1][1].append(line)
    return [(command, "\n".join(out)) for command, out in pairs]


@pytest.mark.parametrize("block", transcripts(), ids=lambda b: f"README line {b.line}")
def test_every_transcript_prints_what_the_readme_shows(block: Block, scratch: Path):
    if "../shared" in block.text and not SHARED.exists():
        pytest.skip("../shared is not beside the checkout")
    for command, shown in sessions(block):
        result = run(command, scratch)
        assert result.returncode == 0, f"README line {block.line}: {command}\n{result.stderr}"
        assert result.stdout.rstrip("\n") == shown.rstrip("\n"), f"README line {block.line}: {command}"


def test_the_json_excerpt_is_the_programs(scratch: Path):
    excerpt = next(b for b in blocks() if b.language == "json" and '"decisions"' in b.text)
    shown = json.loads(excerpt.text)["decisions"]
    cases = {d["case"] for d in shown}
    result = run(f"guideline-reasoner decide {' '.join(sorted(cases))} --format json", scratch)
    assert result.returncode == 0, result.stderr
    printed = {d["request"]: d for d in json.loads(result.stdout)["decisions"]}
    for decision in shown:
        assert printed[decision["request"]] == decision


def test_the_endpoint_example_answers_what_the_readme_shows(scratch: Path):
    """The SPARQL endpoint section: load, serve, then the query and its CSV answer."""
    all_blocks = blocks()
    at = next(i for i, b in enumerate(all_blocks) if b.language == "sh" and "guideline-reasoner serve" in b.text)
    commands, answer = all_blocks[at].text, all_blocks[at + 1].text
    load = next(line for line in commands.splitlines() if line.startswith("guideline-reasoner load"))
    assert run(load, scratch).returncode == 0
    port = free_port()
    serve = next(line for line in commands.splitlines() if line.startswith("guideline-reasoner serve")).split("#")[0]
    env = {**os.environ, "PATH": f"{scratch.parent / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    server = subprocess.Popen(["bash", "-c", f"exec {serve} --port {port}"], cwd=scratch, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        query_file = re.search(r"query@(\S+)", commands).group(1)
        accept = re.search(r"Accept: ([^']+)'", commands).group(1)
        body = urllib.parse.urlencode({"query": (scratch / query_file).read_text()}).encode()
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/sparql", data=body, headers={"Accept": accept})
                with urllib.request.urlopen(request, timeout=30) as response:
                    text = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert text.replace("\r\n", "\n").strip() == answer.strip()
    finally:
        stop(server, 30)


def command_rows() -> dict[str, str]:
    """The command table: the first words of each row's command cell → the whole row."""
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\| `guideline-reasoner ([a-z-]+)", line)
        if m:
            rows[m.group(1)] = rows.get(m.group(1), "") + line
    return rows


def test_the_command_table_names_every_option():
    from reasoner.cli import build_parser

    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    rows = command_rows()
    missing = []
    for name, sub in subcommands.choices.items():
        assert name in rows, f"the README command table has no row for {name}"
        for action in sub._actions:
            spellings = [o for o in action.option_strings if o not in ("-h", "--help")]
            if spellings and not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", rows[name]) for o in spellings):
                missing.append(f"{name} {spellings[-1]}")
    assert missing == [], "options missing from the README command table: " + ", ".join(missing)


def test_the_requirement_ids_listed_are_the_knowledge_bases():
    from reasoner.kb.knowledge import KnowledgeBase
    from reasoner.namespaces import GR

    ids = {str(o) for o in KnowledgeBase().graph.objects(None, GR.requirementId)}
    keys = README.read_text().split("`reasons[]` with `requirement`", 1)[1].split("`status`", 1)[0]
    assert set(re.findall(r"`([a-z-]+)`", keys)) == ids
