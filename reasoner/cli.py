"""Command line: `guideline-reasoner decide|validate|check`.

Exit codes (documented in the README): 0 done (validate: the case conforms);
1 validate found unmet requirements, or check found problems; 2 bad input or usage,
reported as one line naming the file and the field."""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import sys
import tempfile
import warnings
from pathlib import Path

from reasoner import __version__
from reasoner.errors import InputError
from reasoner.output.formats import output_format

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

DESCRIPTION = """\
Decide whether requested treatments are supported by the treatment guidelines
(California MTUS, ODG where the MTUS is silent), and say why: each requirement met or
not, the observed and limit values, and the guideline, edition and page cited.
Cases are Turtle, JSON-LD or plain JSON files (see examples/), or FHIR R4 bundles."""

EPILOG = """\
examples:
  guideline-reasoner decide examples/seed-case.ttl
  guideline-reasoner decide examples/seed-case.jsonld --format json
  guideline-reasoner validate examples/seed-case.ttl --format turtle -o report.ttl
  guideline-reasoner report examples/seed-case.ttl -o report.html
  guideline-reasoner diff ontology/ ../new/ontology/ examples/seed-case.ttl
  guideline-reasoner import-letter letter.pdf -o case.ttl --labels labels.json
  guideline-reasoner import-fhir bundle.json -o case.ttl
  guideline-reasoner evaluate ../shared/letters/dev --format markdown -o report.md
  guideline-reasoner kb --format json
  guideline-reasoner terms --kind region knee
  guideline-reasoner load examples/seed-case.ttl --store store/
  guideline-reasoner serve --store store/ --port 7878
  guideline-reasoner check

exit codes: 0 done; 1 unmet requirements (validate) or problems (check);
            2 bad input or usage (one line naming the file and field)"""


class _NotBuilt:
    """A command's parser left out (build_parser's `only`): its arguments go nowhere."""

    def add_argument(self, *args, **kwargs) -> None:
        pass


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` (a command's name) that command alone: a
    `decide` need not build eleven other parsers (a tenth of a cold start's Python time)."""
    parser = argparse.ArgumentParser(
        prog="guideline-reasoner", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_command(name: str, **kwargs):
        return commands.add_parser(name, **kwargs) if only in (None, name) else _NotBuilt()

    decide = add_command(
        "decide", help="decide every request of one or more cases",
        description="Decide each request: medically necessary (IMR: Overturned), not medically "
                    "necessary (IMR: Upheld) or no applicable guideline, with the reasons.")
    decide.add_argument("cases", nargs="+", type=Path, metavar="CASE",
                        help="case file (.ttl, .jsonld, .json); with --batch also a folder, an N-Quads file "
                             "(one named graph per case) or a JSON lines file (one case per line)")
    decide.add_argument("--batch", action="store_true",
                        help="many cases at once: records out as JSON lines (or N-Quads with -o OUT.nq), "
                             "one per input case, decision or error; summary on standard error")
    decide.add_argument("--jobs", type=int, default=1, help="worker processes for --batch (default 1)")
    decide.add_argument("--chunk-size", type=int, default=500, help="cases per store in --batch (default 500)")
    decide.add_argument("--format", choices=("text", "json", "turtle", "json-ld"),
                        help="text (default) for people; json for programs; turtle or json-ld "
                             "for the decision and explanation triples; default: chosen by -o's suffix "
                             "(.txt, .json, .ttl, .jsonld), else text")
    decide.add_argument("-o", "--output", type=Path, help="write here instead of standard output; with --batch "
                                                           "OUT.jsonl (JSON lines) or OUT.nq (N-Quads)")
    decide.add_argument("--store", type=Path, help="also keep the cases and decisions in this store folder")
    decide.add_argument("--endpoint", help="run the pipeline in an external SPARQL 1.1 store: its query URL "
                                           "(e.g. http://127.0.0.1:7878/query); needs --gsp")
    decide.add_argument("--gsp", help="the external store's Graph Store Protocol URL (e.g. http://127.0.0.1:7878/store)")

    load = add_command(
        "load", help="decide cases and keep them, with decisions and SHACL reports, in the store",
        description="Each case goes into its own named graph (the case IRI) with its decisions, explanation "
                    "triples and SHACL report; loading a case again replaces its graph. The knowledge base "
                    "sits in <urn:guideline-reasoner:graph:kb>.")
    load.add_argument("cases", nargs="+", type=Path, metavar="CASE")
    load.add_argument("--store", type=Path, help="store folder (default: ~/.local/share/guideline-reasoner/store)")

    serve = add_command(
        "serve", help="serve the store over the SPARQL 1.1 Protocol (read-only)",
        description="A read-only SPARQL 1.1 endpoint on /sparql with an HTML query page on /. "
                    "Binds to 127.0.0.1 unless told otherwise; case data is health information.")
    serve.add_argument("--store", type=Path, help="store folder (default: ~/.local/share/guideline-reasoner/store)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7878)
    serve.add_argument("--timeout", type=float, default=10.0, help="seconds a query may run (default 10)")
    serve.add_argument("--max-result-mb", type=int, default=50, help="largest serialized result (default 50 MB)")
    serve.add_argument("--workers", type=int, default=2, help="query worker processes (default 2)")
    serve.add_argument("--token", help="require this bearer token on every request "
                                       "(or set GUIDELINE_REASONER_TOKEN); an empty token is an error")
    serve.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                       help="let web pages from this origin (e.g. https://yasgui.example.org) query the endpoint "
                            "from a browser; may be given more than once; * allows any (with a warning). "
                            "Off by default: the store holds health information")

    validate = add_command(
        "validate", help="the SHACL validation report of a case's requirements",
        description="Check a case against the documentation requirements of every applicable "
                    "recommendation. Exit 0 when all are met, 1 when some are not.")
    validate.add_argument("case", type=Path, metavar="CASE")
    validate.add_argument("--format", choices=("text", "turtle", "json-ld"),
                          help="text (default): a checklist; turtle or json-ld: the standard sh:ValidationReport; "
                               "default: chosen by -o's suffix (.txt, .ttl, .jsonld), else text")
    validate.add_argument("-o", "--output", type=Path, help="write here instead of standard output")

    rep = add_command(
        "report", help="decisions as a readable report (HTML or Markdown) with letter-form rationales",
        description="Per request: decision and IMR outcome, each criterion met or not with observed and "
                    "limit values, citation, evidence tier and edition, the records relied on, a smaller "
                    "quantity that could be approved, what would make it approvable, and a rationale "
                    "paragraph in determination-letter form. HTML (one printable file) or Markdown, "
                    "chosen by the output's suffix or --format.")
    rep.add_argument("cases", nargs="+", type=Path, metavar="CASE")
    rep.add_argument("-o", "--output", type=Path, help="report.html or report.md (default: Markdown on standard output)")
    rep.add_argument("--format", choices=("html", "markdown"))

    diff = add_command(
        "diff", help="which decisions change between two versions of the knowledge base, and why",
        description="Decide the cases with two knowledge bases (each an ontology folder or its "
                    "catalog-v001.xml) and list the decisions whose outcome or reasons differ.")
    diff.add_argument("old_kb", type=Path, metavar="OLD_KB")
    diff.add_argument("new_kb", type=Path, metavar="NEW_KB")
    diff.add_argument("cases", nargs="+", type=Path, metavar="CASE")
    diff.add_argument("--format", choices=("text", "json"), default="text")

    imp = add_command(
        "import-letter", help="turn an IMR determination letter (PDF or text) into a case file",
        description="Read the header dates, the CLINICAL CASE SUMMARY and the disputed item lines of an "
                    "IMR final determination letter and write the case graph. The reviewer's decisions "
                    "and rationales are never read as facts; --labels writes them apart, for evaluation.")
    imp.add_argument("letter", type=Path, metavar="FILE", help="letter as .pdf or .txt")
    imp.add_argument("-o", "--output", type=Path, help="case file to write (.ttl or .jsonld); default: Turtle on standard output")
    imp.add_argument("--labels", type=Path, help="also write the reviewer's decision and cited guideline per item (JSON)")

    fhir = add_command(
        "import-fhir", help="turn a FHIR R4 Bundle (a prior-authorization request) into a case file",
        description="Read a FHIR R4 Bundle: the items of a prior-authorization Claim (Da Vinci PAS) or the "
                    "ServiceRequests and MedicationRequests, with Conditions, Procedures, Observations and "
                    "MedicationStatements, validated with the fhir.resources models, and write the case graph. "
                    "Codes are mapped through the ontology; a code it does not map is named on standard "
                    "error and in the case, and makes its request 'no applicable guideline'. "
                    "decide reads a bundle (.json) directly too.")
    fhir.add_argument("bundle", type=Path, metavar="BUNDLE.json")
    fhir.add_argument("-o", "--output", type=Path, help="case file to write (.ttl or .jsonld); default: Turtle on standard output")

    ev = add_command(
        "evaluate", help="import a folder of letters, decide every item, compare with the reviewers",
        description="Agreement with IMR reviewers on covered items (a recommendation applied): Upheld and "
                    "Overturned recall, balanced accuracy, coverage, reason agreement, overall and for "
                    "physical medicine, with a per-item table. Unreadable letters are listed, not dropped.")
    ev.add_argument("directory", type=Path, metavar="DIR")
    ev.add_argument("--format", choices=("text", "json", "markdown"),
                    help="default: chosen by -o's suffix (.txt, .json, .md), else text")
    ev.add_argument("-o", "--output", type=Path, help="write the report here")
    ev.add_argument("--split", type=Path, metavar="SPLIT.json",
                    help="also report the tune and check halves listed in this file "
                         "(tests/fixtures/letters/dev-split.json for the development letters)")
    ev.add_argument("--reasons", type=Path, metavar="REASONS.tsv",
                    help="the reviewers' main reasons, labelled by hand per item, for reason agreement "
                         "(tests/fixtures/letters/dev-main-reasons.tsv for the development letters)")

    kb = add_command(
        "kb", help="what the knowledge base holds: recommendations by grade and guideline",
        description="Count the recommendations of the knowledge base by grade (A: two or more "
                    "sources agree; B: one source; C: unverified) and by guideline.")
    kb.add_argument("--format", choices=("text", "json"), default="text")

    terms = add_command(
        "terms", help="the names a case may use: treatments, regions, findings, diagnoses, outcomes, properties",
        description="List the names a case file may use, with the ontology's label and definition of each:\n"
                    "treatments, body regions, findings and diagnoses (conditions), the values of treatment,\n"
                    "bodyPart, hasFinding and diagnoses; functional outcomes (outcome), lateralities, care\n"
                    "purposes and treatment responses; and the properties a case states, with their JSON keys.\n"
                    "In Turtle a name is written gr:NAME, in JSON \"NAME\".",
        epilog="examples:\n  guideline-reasoner terms --kind region knee\n"
               "  guideline-reasoner terms --kind property\n  guideline-reasoner terms deficit --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    from reasoner.cases.terms import KINDS

    terms.add_argument("word", nargs="?", metavar="WORD",
                       help="only names whose name, label or JSON key holds WORD (any case)")
    terms.add_argument("--kind", choices=KINDS, help="only names of this kind")
    terms.add_argument("--format", choices=("text", "json"), default="text",
                       help="text (default): name, label and definition; json: a \"terms\" list of "
                            "kind, name, iri, label, definition (and json_keys for properties)")

    add_command(
        "check", help="self-check the ontology, knowledge base, shapes and queries",
        description="Load the knowledge base through the catalog, run the quality queries "
                    "(labels, definitions, citations, grades), check every shape and query.")
    return parser


def main(argv: list[str] | None = None) -> int:
    # rdflib logs a warning with a traceback for every ill-typed literal ("eight" as an
    # integer); the input shapes report those as clear errors instead.
    logging.getLogger("rdflib").setLevel(logging.ERROR)
    # pypdf logs (and warns of) every object it recovers in a damaged PDF, thousands of lines;
    # the letter's error line says what matters once.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module=r"pypdf(\.|$)")
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=given[0] if given and given[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        refuse_output_over_input(args)
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"guideline-reasoner: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("guideline-reasoner: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (decide ... | head): stop quietly, as Unix tools do
        _discard_stdout()
        return 141


def run_decide(args) -> int:
    from reasoner.output import render
    from reasoner.pipeline.engine import Reasoner

    if args.batch:
        return _run_batch(args)
    fmt = output_format("decide", args.output, args.format, "text")
    if bool(args.endpoint) != bool(args.gsp):
        raise InputError("--endpoint/--gsp", "give both the query URL and the Graph Store Protocol URL")
    if args.endpoint:
        from reasoner.pipeline.remote import RemoteReasoner

        reasoner = RemoteReasoner(args.endpoint, args.gsp)
    else:
        reasoner = Reasoner()
    cases = [(path, reasoner.read(path)) for path in args.cases]
    results = [reasoner.decide(triples, str(path)) for path, triples in cases]
    if args.store:
        _keep(args.store, reasoner, [(path, _graph(triples)) for path, triples in cases], results)
    if fmt == "json":
        text = render.as_json(results) + "\n"
    elif fmt == "text":
        text = render.as_text(results)
    else:
        text = render.as_rdf(results, fmt)
    emit(text, args.output)
    return EXIT_OK


def _run_batch(args) -> int:
    from reasoner.pipeline import batch

    if args.format is not None:
        raise InputError("--format", "does not apply to --batch: records are JSON lines, or N-Quads with -o OUT.nq")
    nquads = output_format("decide --batch", args.output, None, "json lines") == "n-quads"
    for path in args.cases:
        if not path.exists():
            raise InputError(str(path), "not found")
    summary = batch.Summary()
    if args.output is None:
        numbered = batch.summarise(_decide_numbered(args), summary)
        batch.write_records((record for _, record in numbered), sys.stdout, nquads=False)
    else:
        # one run at a time on OUT; records go as they come to OUT.partial, so a killed run resumes
        with batch.ResumableOutput(_output_file(args.output), shown=str(args.output)) as output:
            if output.finished_earlier():
                print(f"guideline-reasoner: {args.output} was already complete (the run that wrote it was stopped "
                      "while tidying up, now done); nothing decided", file=sys.stderr)
                return EXIT_OK
            done = output.resume()
            if done:
                print(f"guideline-reasoner: resuming: {len(done)} cases already decided in {output.partial.name}",
                      file=sys.stderr)
            try:
                output.write_all(batch.summarise(_decide_numbered(args, explain=nquads, skip=done), summary), nquads)
                output.finish(args.cases)
            except OSError as exc:
                if exc.filename is not None and Path(exc.filename).parent != output.target.parent:
                    raise  # not one of the output's files
                raise InputError(str(args.output), f"cannot write ({exc.strerror}); the cases decided so far are "
                                                   f"kept in {output.partial.name} and a re-run resumes") from None
    print(f"\nguideline-reasoner: {summary.as_text()}", file=sys.stderr)
    return EXIT_OK


def _decide_numbered(args, **options):
    from reasoner.pipeline import batch
    from reasoner.kb.knowledge import KnowledgeBase

    return batch.decide_numbered(args.cases, KnowledgeBase().closure_ntriples, jobs=max(args.jobs, 1),
                                 chunk_size=args.chunk_size, progress=batch.progress_bar(), **options)


def _graph(triples):
    from reasoner.pipeline.case_input import to_graph

    return to_graph(triples)


def _keep(store_dir: Path, reasoner, cases, results) -> None:
    from reasoner.serve import store

    target = _open_store(store_dir)
    try:
        store.ensure_knowledge(target, reasoner.kb.closure_ntriples, reasoner.kb.version)
        for (path, graph), result in zip(cases, results):
            name = store.put_case(target, graph, result)
            print(f"stored {path} as graph <{name.value}>", file=sys.stderr)
        target.flush()
    except OSError as exc:  # a full disk; each graph is replaced in one transaction, so none is left half written
        raise InputError(str(store_dir or _default_store()), f"cannot write to the store ({' '.join(str(exc).split())[:200]})") from None


def _open_store(store_dir: Path | None, read_only: bool = False):
    from reasoner.serve import store

    path = store_dir or store.DEFAULT_STORE
    try:
        return store.open_store(path, read_only=read_only)
    except OSError as exc:
        raise InputError(str(path), f"cannot open the store ({exc}); is another process serving it?") from None


def run_load(args) -> int:
    from reasoner.pipeline.engine import Reasoner

    reasoner = Reasoner()
    cases = [(path, reasoner.load(path)) for path in args.cases]
    _keep(args.store or _default_store(), reasoner, cases, [reasoner.decide(g, str(p)) for p, g in cases])
    return EXIT_OK


def _default_store() -> Path:
    from reasoner.serve.store import DEFAULT_STORE

    return DEFAULT_STORE


def run_serve(args) -> int:
    import uvicorn

    from reasoner.serve import options as serve_options
    from reasoner.serve.endpoint import create_app

    token = serve_options.checked_token(args.token, os.environ)
    serve_options.checked_numbers(args.workers, args.timeout, args.max_result_mb)
    origins = serve_options.checked_origins(args.cors)
    path = args.store or _default_store()
    if not (path / "CURRENT").exists():
        raise InputError(str(path), "no store here; create one with `guideline-reasoner load CASE... --store DIR`")
    sock = serve_options.listening_socket(args.host, args.port)  # before any "endpoint on" line
    for warning in serve_options.warnings(args.host, token, origins):
        print(f"guideline-reasoner: warning: {warning}", file=sys.stderr)
    import signal

    # stopped while starting (before uvicorn takes SIGTERM over): still remove the snapshot and spool
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = create_app(path, timeout=args.timeout, max_result_mb=args.max_result_mb, token=token, workers=args.workers,
                     cors_origins=origins)
    _refresh_on_hangup(app.state.runner)
    print(f"guideline-reasoner: SPARQL endpoint on http://{args.host}:{args.port}/sparql "
          f"(store {path}, read-only{', bearer token required' if token else ''}"
          f"{', CORS for ' + ' '.join(origins) if origins else ''})", file=sys.stderr)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    finally:
        app.state.runner.close()
    return EXIT_OK


def _refresh_on_hangup(runner) -> None:
    """`kill -HUP` the server after a `load`: every worker moves to a new snapshot of the store."""
    import signal
    import threading

    def refresh():
        try:
            runner.refresh()
            print("guideline-reasoner: answering from a new snapshot of the store", file=sys.stderr)
        except InputError as exc:
            print(f"guideline-reasoner: error: {exc} (still answering from the old snapshot)", file=sys.stderr)

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=refresh, daemon=True).start())


def run_validate(args) -> int:
    from reasoner.output import render
    from reasoner.output import validation_report
    from reasoner.pipeline.engine import Reasoner

    fmt = output_format("validate", args.output, args.format, "text")
    result = Reasoner().decide_file(args.case)
    if fmt == "text":
        text = validation_report.as_text(result)
    else:
        report = render.bind_prefixes(result.report)
        text = report.serialize(format=fmt)
    emit(text, args.output)
    return EXIT_OK if result.conforms else EXIT_FINDINGS


def run_report(args) -> int:
    from reasoner.output import report
    from reasoner.pipeline.engine import Reasoner

    fmt = output_format("report", args.output, args.format, "markdown")
    reasoner = Reasoner()
    results = [reasoner.decide_file(path) for path in args.cases]
    emit(report.as_html(results) if fmt == "html" else report.as_markdown(results), args.output)
    return EXIT_OK


def run_diff(args) -> int:
    from reasoner.kb import diff as kb_diff

    changes = kb_diff.compare(_catalog(args.old_kb), _catalog(args.new_kb), args.cases)
    emit(kb_diff.as_json(changes) if args.format == "json" else kb_diff.as_text(changes), None)
    return EXIT_OK


def _catalog(path: Path) -> Path:
    catalog = path / "catalog-v001.xml" if path.is_dir() else path
    if not catalog.is_file():
        raise InputError(str(path), "not a knowledge base: give an ontology folder or its catalog-v001.xml")
    return catalog


def run_import_letter(args) -> int:
    from reasoner.letters.importer import import_letter
    from reasoner.letters.reading import LetterError

    fmt = output_format("import-letter", args.output, None, "turtle")
    if args.labels:
        output_format("import-letter --labels", args.labels, None, "json")
    try:
        imported = import_letter(args.letter)
    except LetterError as exc:
        raise InputError(str(args.letter), str(exc)) from None
    text = _case_file_text(imported.graph, fmt)
    outputs = [(text, args.output)]
    if args.labels:
        labels = [{"request": imported.request_iri(n), "item": label.text, "decision": label.decision,
                   "maximus_guideline": label.maximus_guideline}
                  for n, label in enumerate(imported.labels, start=1)]
        outputs.append((json.dumps({"case": imported.case_id, "items": labels}, indent=2) + "\n", args.labels))
    emit_files(outputs)  # both or neither: a labels file that cannot be written leaves no case file
    return EXIT_OK


def _case_file_text(graph, fmt: str) -> str:
    """A written case: JSON-LD in the published context, or Turtle."""
    from reasoner.output.render import bind_prefixes

    graph = bind_prefixes(graph)
    if fmt == "json-ld":
        from reasoner.cases.jsonld_contexts import published_context

        return graph.serialize(format="json-ld", context=published_context(), indent=2)
    return graph.serialize(format="turtle")


def run_import_fhir(args) -> int:
    from reasoner.pipeline.engine import Reasoner

    fmt = output_format("import-fhir", args.output, None, "turtle")
    imported = Reasoner().import_fhir(args.bundle)
    text = _case_file_text(imported.graph, fmt)
    emit(text, args.output)
    for note in imported.notes:  # after the case is written: a refused output leaves no notes behind
        print(f"guideline-reasoner: note: {args.bundle}: {note}", file=sys.stderr)
    return EXIT_OK


def run_evaluate(args) -> int:
    from reasoner.pipeline.engine import Reasoner
    from reasoner.letters import evaluation

    fmt = output_format("evaluate", args.output, args.format, "text")
    if not args.directory.is_dir():
        raise InputError(str(args.directory), "not a folder of letters")
    split = _read_split(args.split) if args.split else None
    evaluated = evaluation.evaluate(args.directory, Reasoner(), progress=evaluation.progress_bar)
    if args.reasons:
        evaluation.attach_main_reasons(evaluated, _read_main_reasons(args.reasons))
    data = evaluation.report(evaluated, split)
    render = {"json": evaluation.as_json, "markdown": evaluation.as_markdown, "text": evaluation.as_text}[fmt]
    emit(render(data), args.output)
    return EXIT_OK


def _read_split(path: Path) -> dict[str, str]:
    from reasoner.letters import evaluation

    try:
        return evaluation.load_split(path)
    except OSError as exc:
        raise InputError(str(path), f"cannot read the split file: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise InputError(str(path), "not a split file: JSON with 'tune' and 'check' lists of letter ids") from None


def _read_main_reasons(path: Path) -> dict[tuple[str, int], str]:
    from reasoner.letters import evaluation

    try:
        return evaluation.load_main_reasons(path)
    except OSError as exc:
        raise InputError(str(path), f"cannot read the reasons file: {exc.strerror}") from None
    except ValueError:
        raise InputError(str(path), "not a reasons file: tab-separated letter, item number, decision, reason id") from None


def run_kb(args) -> int:
    from reasoner.kb import summary as kb_summary
    from reasoner.kb.knowledge import KnowledgeBase

    data = kb_summary.summary(KnowledgeBase())
    emit(kb_summary.as_json(data) if args.format == "json" else kb_summary.as_text(data), None)
    return EXIT_OK


def run_terms(args) -> int:
    from reasoner.cases import terms as case_terms
    from reasoner.kb.knowledge import KnowledgeBase

    found = case_terms.terms(KnowledgeBase(), args.kind, args.word)
    emit(case_terms.as_json(found) if args.format == "json" else case_terms.as_text(found), None)
    return EXIT_OK


def run_check(args) -> int:
    from reasoner.kb import selfcheck

    problems = selfcheck.run(print)
    return EXIT_FINDINGS if problems else EXIT_OK


COMMANDS = {"decide": run_decide, "validate": run_validate, "load": run_load, "serve": run_serve,
            "report": run_report, "diff": run_diff, "import-letter": run_import_letter, "import-fhir": run_import_fhir,
            "evaluate": run_evaluate, "kb": run_kb, "terms": run_terms, "check": run_check}


def refuse_output_over_input(args) -> None:
    """An output (-o, --labels) that is one of the command's inputs would destroy it."""
    inputs = _inputs(args)
    output, labels = getattr(args, "output", None), getattr(args, "labels", None)
    if output is not None and labels is not None and output.resolve() == labels.resolve():
        raise InputError(str(labels), "is also the -o output; give the labels a file of their own")
    for name in ("output", "labels"):
        out = getattr(args, name, None)
        if isinstance(out, Path) and out.exists():
            for given in inputs:
                if given.exists() and os.path.samefile(out, given):
                    raise InputError(str(out), f"is also an input ({given}); the output would overwrite it")


def _inputs(args) -> list[Path]:
    found: list[Path] = []
    for name in ("cases", "case", "letter", "bundle", "old_kb", "new_kb"):
        value = getattr(args, name, None)
        found += [p for p in (value if isinstance(value, list) else [value]) if isinstance(p, Path)]
    return found


def emit(text: str, output: Path | None) -> None:
    emit_files([(text, output)])


def emit_files(outputs: list[tuple[str, Path | None]]) -> None:
    """Print, or write each file through a temporary file beside it and a rename, so a
    reader never sees a half-written file. Every temporary file is written before any is
    renamed: a full disk or a read-only folder (an input error naming the file) leaves
    none of the outputs behind. An output that is a terminal, a pipe or a character device
    such as /dev/null is written as the shell's `>` would: it cannot be renamed over."""
    staged: list[tuple[str, Path, str]] = []  # (temporary file, target, name as given)
    try:
        for text, output in outputs:
            if output is not None and not _is_stream(output):
                staged.append((*_stage(text, output), str(output)))
        for text, output in outputs:
            if output is None:
                _print(text)
            elif _is_stream(output):
                _write(text, output)
        for tmp, target, shown in staged:
            _write_step(shown, os.replace, tmp, target)
    finally:
        for tmp, _, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def _stage(text: str, output: Path) -> tuple[str, Path]:
    """A temporary file beside `output` holding `text`, and the file it is to replace."""
    target = _output_file(output)
    fd, tmp = _write_step(str(output), tempfile.mkstemp, dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        _write_fd(str(output), fd, text)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp, target


def _write(text: str, output: Path) -> None:
    _write_fd(str(output), _write_step(str(output), os.open, output, os.O_WRONLY | os.O_CLOEXEC), text)


def _write_fd(shown: str, fd: int, text: str) -> None:
    """All of `text` to `fd`, then close it. Unbuffered: a buffered file whose write failed
    fails again when it is closed, and the second error escapes as a traceback."""
    data = memoryview(text.encode("utf-8"))
    try:
        while data:
            data = data[_write_step(shown, os.write, fd, data):]
    finally:
        os.close(fd)


def _print(text: str) -> None:
    if sys.stdout is None:  # started with standard output closed (>&-)
        raise InputError("standard output", "is closed; give -o FILE")
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _discard_stdout()  # or Python's own flush at exit prints a second error
        raise InputError("standard output", f"cannot write ({exc.strerror})") from None


def _write_step(shown: str, step, *args, **kwargs):
    """One step of writing an output; an OSError (no space left, read-only file system,
    permission denied, file too large) becomes an input error naming the output."""
    try:
        return step(*args, **kwargs)
    except OSError as exc:
        raise InputError(shown, f"cannot write ({exc.strerror or exc}); nothing written") from None


def _discard_stdout() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _is_stream(output: Path) -> bool:
    try:
        mode = output.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _output_file(output: Path) -> Path:
    """`output` resolved; an input error when no file can be written there."""
    target = output.resolve()
    if target.is_dir():
        raise InputError(str(output), "is a directory; give a file name for the output")
    if not target.parent.is_dir():
        raise InputError(str(output), "the output folder does not exist")
    if target.exists() and not target.is_file():  # a rename would replace the device or socket itself
        raise InputError(str(output), "is not a regular file (a device, pipe or socket); give a file name")
    return target


if __name__ == "__main__":
    raise SystemExit(main())
