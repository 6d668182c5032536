"""Letter file -> (case graph, reviewer labels). The graph holds only what the header,
the case summary and the item lines say; the labels (decision and cited guideline per
item) are returned apart, for evaluation, and never enter the graph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from reasoner.letters.items import ParsedItem, parse_item
from reasoner.letters.reading import read_letter_text
from reasoner.letters.sections import LetterItem, split_letter
from reasoner.letters.summary import read_summary
from reasoner.letters.to_rdf import case_graph, case_namespace


@dataclass
class ImportedLetter:
    case_id: str
    graph: Graph
    items: list[ParsedItem]
    labels: list[LetterItem]   # reviewer decisions: for evaluation only

    def request_iri(self, n: int) -> str:
        return str(case_namespace(self.case_id)[f"item-{n}"])


def import_letter(path: Path) -> ImportedLetter:
    letter = split_letter(read_letter_text(path))
    case_id = letter.header.get("case_number") or path.stem
    facts = read_summary(letter.summary, letter.header.get("date_of_injury"))
    items = [parse_item(item.text) for item in letter.items]
    return ImportedLetter(case_id, case_graph(case_id, letter, facts, items), items, letter.items)
