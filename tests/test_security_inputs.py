"""Untrusted input. Text from case files and letters (item labels, file names, labels a case
states) never runs as script in a report: the HTML report and the Markdown report rendered
by a CommonMark renderer are loaded in headless Chromium, which must show the text and run
none of it."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from conftest import ROOT
from test_reports import cli, headless

# Two ways markup gets into a page: an element of its own, and breaking out of an attribute.
SCRIPT = "<script>document.title='pwned'</script>"
IMG = "\"><img src=x onerror=\"document.title='pwned'\">"
# Markdown's own ways: a blank line starts an HTML block; images are fetched, links followed.
BLOCKS = "a\n\n<script>document.title='pwned'</script>\n\n![x](x.png) [y](javascript:document.title='pwned')"
TITLE = "<title>Treatment request decisions</title>"
SEED_LETTER = ROOT.parent / "shared" / "seed" / "imr-determination-chiropractic-pt-massage.txt"

CASE_WITH_MARKUP = f"""@prefix gr:   <https://w3id.org/guideline-reasoner/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix :     <https://example.org/security/markup#> .

:case a gr:Case ;
    gr:hasDiagnosis gr:LumbarSprainStrain ;
    gr:hasRequest :chiro-x4 , :chiro-x6 , :chiro-x8 .
:chiro-x4 a gr:TreatmentRequest ; rdfs:label {json.dumps(BLOCKS)} ;
    gr:treatment gr:ChiropracticManipulation ; gr:quantity 4 ;
    gr:bodyPart gr:LowBack ; gr:requestDate "2017-01-10"^^xsd:date .
:chiro-x6 a gr:TreatmentRequest ; rdfs:label {json.dumps(SCRIPT)} ;
    gr:treatment gr:ChiropracticManipulation ; gr:quantity 6 ;
    gr:bodyPart gr:LowBack ; gr:requestDate "2017-01-10"^^xsd:date .
:chiro-x8 a gr:TreatmentRequest ; rdfs:label {json.dumps(IMG)} ;
    gr:treatment gr:ChiropracticManipulation ; gr:quantity 8 ;
    gr:bodyPart gr:LowBack ; gr:requestDate "2017-01-10"^^xsd:date .
"""
# A case may also state labels of knowledge-base terms; they are printed as the treatment
# and in the records relied on.
RESTATED_LABELS = f"""
gr:ChiropracticManipulation rdfs:label {json.dumps(SCRIPT)}@en .
gr:LumbarSprainStrain rdfs:label {json.dumps(IMG)}@en .
"""


def markup_case(folder: Path, extra: str = "") -> Path:
    path = folder / f"{IMG}.ttl"  # the file name is printed too
    path.write_text(CASE_WITH_MARKUP + extra)
    return path


def letter_with_markup(folder: Path) -> Path:
    """The seed letter with markup in its first item line, imported as a case."""
    letter = folder / "letter.txt"
    letter.write_text(SEED_LETTER.read_text().replace("CHIROPRACTIC X 8:  Upheld",
                                                      f"CHIROPRACTIC X 8 {SCRIPT}{IMG}:  Upheld"))
    case = folder / "letter-case.ttl"
    run = cli("import-letter", str(letter), "-o", str(case))
    assert run.returncode == 0, run.stderr
    return case


def assert_shows_markup_as_text(page: Path, profile: Path, texts: list[str]) -> None:
    """Chromium loads the page and runs whatever would run (virtual time lets load events
    fire); the DOM must have no element the input brought and show the input as text."""
    dom = headless("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), tmp=profile).stdout
    assert TITLE in dom, "the page's title was changed: injected script ran"
    assert "<script" not in dom and "<img" not in dom and "<a " not in dom  # text is serialized as &lt;script
    for text in texts:
        assert html.escape(text, quote=False) in dom, f"{text!r} not shown as text"


@pytest.mark.skipif(not SEED_LETTER.is_file(), reason="../shared/seed is not beside the checkout")
@pytest.mark.parametrize("route", ["case file", "restated labels", "imported letter"])
def test_html_report_shows_input_markup_as_text(tmp_path, route):
    if route == "imported letter":
        case, texts = letter_with_markup(tmp_path), [f"CHIROPRACTIC X 8 {SCRIPT}{IMG}"]
    else:
        case, texts = markup_case(tmp_path, RESTATED_LABELS if route == "restated labels" else ""), [SCRIPT, IMG, BLOCKS]
    page = tmp_path / "report.html"
    run = cli("report", str(case), "-o", str(page))
    assert run.returncode == 0, run.stderr
    source = page.read_text()
    assert "<script" not in source and "<img" not in source
    assert_shows_markup_as_text(page, tmp_path / "profile", texts + [str(case)])


def test_markdown_report_rendered_shows_input_markup_as_text(tmp_path):
    """A Markdown report is read rendered: through CommonMark with raw HTML allowed (the
    renderer's default), it must still show the text and bring no element."""
    from markdown_it import MarkdownIt

    case = markup_case(tmp_path, RESTATED_LABELS)
    run = cli("report", str(case), "--format", "markdown")
    assert run.returncode == 0, run.stderr
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(run.stdout)
    page = tmp_path / "report-md.html"
    page.write_text(f'<!doctype html><html><head><meta charset="utf-8">{TITLE}</head><body>{body}</body></html>')
    # one line per value: a line break in a label would end the heading or the table row
    assert_shows_markup_as_text(page, tmp_path / "profile", [SCRIPT, IMG, " ".join(BLOCKS.split()), str(case)])
    assert "<table>" in body and "<h2>Records relied on</h2>" in body  # the layout held
