"""Which output formats each command writes, and the file suffixes that name them.

`-o out.csv` or `--format json -o r.txt` used to write some other format under that name;
now an output's suffix must name one of the command's formats and agree with `--format`.
Without `--format` the suffix chooses; a name without a suffix takes `--format` or the
default."""

from __future__ import annotations

from pathlib import Path

from reasoner.errors import InputError

# command -> format -> suffixes, first one preferred in messages
FORMATS: dict[str, dict[str, tuple[str, ...]]] = {
    "decide": {"text": (".txt",), "json": (".json",), "turtle": (".ttl",), "json-ld": (".jsonld",)},
    "decide --batch": {"json lines": (".jsonl",), "n-quads": (".nq",)},
    "validate": {"text": (".txt",), "turtle": (".ttl",), "json-ld": (".jsonld",)},
    "report": {"html": (".html", ".htm"), "markdown": (".md", ".markdown")},
    "import-letter": {"turtle": (".ttl",), "json-ld": (".jsonld", ".json")},
    "import-fhir": {"turtle": (".ttl",), "json-ld": (".jsonld", ".json")},
    "import-letter --labels": {"json": (".json",)},
    "evaluate": {"text": (".txt",), "json": (".json",), "markdown": (".md", ".markdown")},
}


def output_format(command: str, output: Path | None, given: str | None, default: str) -> str:
    """The format to write: `given` (--format), else the one `output`'s suffix names, else
    `default`; an input error when the suffix names no format of `command` or another one
    than `given`."""
    suffix = output.suffix.lower() if output is not None else ""
    if not suffix:
        return given or default
    formats = FORMATS[command]
    named = next((fmt for fmt, suffixes in formats.items() if suffix in suffixes), None)
    if named is None:
        known = ", ".join(f"{suffixes[0]} ({fmt})" for fmt, suffixes in formats.items())
        raise InputError(str(output), f"unknown output type '{output.suffix}': {command} writes {known}")
    if given is not None and given != named:
        raise InputError(str(output), f"names {named} output but --format is {given}; "
                                      f"name it {formats[given][0]} or leave out --format")
    return named
