"""Command line: `guideline-reasoner decide|validate|check`.

Exit codes (documented in the README): 0 done (validate: the case conforms);
1 validate found unmet requirements, or check found problems; 2 bad input or usage,
reported as one line naming the file and the field."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from reasoner import __version__
from reasoner.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

DESCRIPTION = """\
Decide whether requested treatments are supported by the treatment guidelines
(California MTUS, ODG where the MTUS is silent), and say why: each requirement met or
not, the observed and limit values, and the guideline, edition and page cited.
Cases are Turtle, JSON-LD or plain JSON files (see examples/)."""

EPILOG = """\
examples:
  guideline-reasoner decide examples/seed-case.ttl
  guideline-reasoner decide examples/seed-case.jsonld --format json
  guideline-reasoner validate examples/seed-case.ttl --format turtle -o report.ttl
  guideline-reasoner import-letter letter.pdf -o case.ttl --labels labels.json
  guideline-reasoner evaluate ../shared/letters/dev --format markdown -o report.md
  guideline-reasoner kb --format json
  guideline-reasoner check

exit codes: 0 done; 1 unmet requirements (validate) or problems (check);
            2 bad input or usage (one line naming the file and field)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guideline-reasoner", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    decide = commands.add_parser(
        "decide", help="decide every request of one or more cases",
        description="Decide each request: medically necessary (IMR: Overturned), not medically "
                    "necessary (IMR: Upheld) or no applicable guideline, with the reasons.")
    decide.add_argument("cases", nargs="+", type=Path, metavar="CASE", help="case file (.ttl, .jsonld, .json)")
    decide.add_argument("--format", choices=("text", "json", "turtle", "json-ld"), default="text",
                        help="text (default) for people; json for programs; turtle or json-ld "
                             "for the decision and explanation triples")
    decide.add_argument("-o", "--output", type=Path, help="write here instead of standard output")

    validate = commands.add_parser(
        "validate", help="the SHACL validation report of a case's requirements",
        description="Check a case against the documentation requirements of every applicable "
                    "recommendation. Exit 0 when all are met, 1 when some are not.")
    validate.add_argument("case", type=Path, metavar="CASE")
    validate.add_argument("--format", choices=("text", "turtle", "json-ld"), default="text",
                          help="text (default): a checklist; turtle or json-ld: the standard sh:ValidationReport")
    validate.add_argument("-o", "--output", type=Path, help="write here instead of standard output")

    imp = commands.add_parser(
        "import-letter", help="turn an IMR determination letter (PDF or text) into a case file",
        description="Read the header dates, the CLINICAL CASE SUMMARY and the disputed item lines of an "
                    "IMR final determination letter and write the case graph. The reviewer's decisions "
                    "and rationales are never read as facts; --labels writes them apart, for evaluation.")
    imp.add_argument("letter", type=Path, metavar="FILE", help="letter as .pdf or .txt")
    imp.add_argument("-o", "--output", type=Path, help="case file to write (.ttl or .jsonld); default: Turtle on standard output")
    imp.add_argument("--labels", type=Path, help="also write the reviewer's decision and cited guideline per item (JSON)")

    ev = commands.add_parser(
        "evaluate", help="import a folder of letters, decide every item, compare with the reviewers",
        description="Agreement with IMR reviewers on covered items (a recommendation applied): Upheld and "
                    "Overturned recall, balanced accuracy, coverage, reason agreement, overall and for "
                    "physical medicine, with a per-item table. Unreadable letters are listed, not dropped.")
    ev.add_argument("directory", type=Path, metavar="DIR")
    ev.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    ev.add_argument("-o", "--output", type=Path, help="write the report here")

    kb = commands.add_parser(
        "kb", help="what the knowledge base holds: recommendations by grade and guideline",
        description="Count the recommendations of the knowledge base by grade (A: two or more "
                    "sources agree; B: one source; C: unverified) and by guideline.")
    kb.add_argument("--format", choices=("text", "json"), default="text")

    commands.add_parser(
        "check", help="self-check the ontology, knowledge base, shapes and queries",
        description="Load the knowledge base through the catalog, run the quality queries "
                    "(labels, definitions, citations, grades), check every shape and query.")
    return parser


def main(argv: list[str] | None = None) -> int:
    # rdflib logs a warning with a traceback for every ill-typed literal ("eight" as an
    # integer); the input shapes report those as clear errors instead.
    logging.getLogger("rdflib").setLevel(logging.ERROR)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"guideline-reasoner: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("guideline-reasoner: interrupted", file=sys.stderr)
        return 130


def run_decide(args) -> int:
    from reasoner import render
    from reasoner.engine import Reasoner

    reasoner = Reasoner()
    results = [reasoner.decide_file(path) for path in args.cases]
    if args.format == "json":
        text = render.as_json(results) + "\n"
    elif args.format == "text":
        text = render.as_text(results)
    else:
        text = render.as_rdf(results, args.format)
    emit(text, args.output)
    return EXIT_OK


def run_validate(args) -> int:
    from reasoner import render, validation_report
    from reasoner.engine import Reasoner

    result = Reasoner().decide_file(args.case)
    if args.format == "text":
        text = validation_report.as_text(result)
    else:
        report = render.bind_prefixes(result.report)
        text = report.serialize(format=args.format)
    emit(text, args.output)
    return EXIT_OK if result.conforms else EXIT_FINDINGS


def run_import_letter(args) -> int:
    import json

    from reasoner.letters.importer import import_letter
    from reasoner.letters.reading import LetterError
    from reasoner.render import bind_prefixes

    try:
        imported = import_letter(args.letter)
    except LetterError as exc:
        raise InputError(str(args.letter), str(exc)) from None
    fmt = "json-ld" if args.output and args.output.suffix.lower() in (".jsonld", ".json") else "turtle"
    graph = bind_prefixes(imported.graph)
    if fmt == "json-ld":
        from reasoner.case_loader import published_context

        text = graph.serialize(format="json-ld", context=published_context(), indent=2)
    else:
        text = graph.serialize(format="turtle")
    emit(text, args.output)
    if args.labels:
        labels = [{"request": imported.request_iri(n), "item": label.text, "decision": label.decision,
                   "maximus_guideline": label.maximus_guideline}
                  for n, label in enumerate(imported.labels, start=1)]
        emit(json.dumps({"case": imported.case_id, "items": labels}, indent=2) + "\n", args.labels)
    return EXIT_OK


def run_evaluate(args) -> int:
    from reasoner.engine import Reasoner
    from reasoner.letters import evaluation

    if not args.directory.is_dir():
        raise InputError(str(args.directory), "not a folder of letters")
    data = evaluation.report(evaluation.evaluate(args.directory, Reasoner(), progress=evaluation.progress_bar))
    render = {"json": evaluation.as_json, "markdown": evaluation.as_markdown, "text": evaluation.as_text}[args.format]
    emit(render(data), args.output)
    return EXIT_OK


def run_kb(args) -> int:
    from reasoner import kb_summary
    from reasoner.knowledge import KnowledgeBase

    data = kb_summary.summary(KnowledgeBase())
    emit(kb_summary.as_json(data) if args.format == "json" else kb_summary.as_text(data), None)
    return EXIT_OK


def run_check(args) -> int:
    from reasoner import selfcheck

    problems = selfcheck.run(print)
    return EXIT_FINDINGS if problems else EXIT_OK


COMMANDS = {"decide": run_decide, "validate": run_validate, "import-letter": run_import_letter,
            "evaluate": run_evaluate, "kb": run_kb, "check": run_check}


def emit(text: str, output: Path | None) -> None:
    """Print, or write to `output` through a temporary file and a rename, so a reader
    never sees a half-written file."""
    if output is None:
        sys.stdout.write(text)
        return
    target = output.resolve()
    if target.is_dir():
        raise InputError(str(output), "is a directory; give a file name for the output")
    if not target.parent.is_dir():
        raise InputError(str(output), "the output folder does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    raise SystemExit(main())
