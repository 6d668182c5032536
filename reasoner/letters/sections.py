"""Split an IMR final determination letter into the parts the importer may read (header
dates, the CLINICAL CASE SUMMARY, each disputed item line) and the parts it must not
(the reviewer's decision, guideline citation and rationale, kept only as labels)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reasoner.letters.reading import LetterError

SUMMARY_START = re.compile(r"CLINICAL\s+CASE\s+SUMMARY", re.I)
ISSUES_START = re.compile(r"IMR\s+ISSUES,?\s+DECISIONS\s+AND\s+RATIONALES", re.I)
ITEM_END = re.compile(r":\s*(Upheld|Overturned)\s*$", re.I | re.M)
HEADER_FIELDS = {
    "case_number": r"Case\s+Number:\s*(CM\d{2}-\d{7})",
    "date_of_injury": r"Date\s+of\s+Injury:\s*(\d{1,2}/\d{1,2}/\d{4})",
    "decision_date": r"Decision\s+Date:\s*(\d{1,2}/\d{1,2}/\d{4})",
    "ur_denial_date": r"UR\s+Denial\s+Date:\s*(\d{1,2}/\d{1,2}/\d{4})",
}


@dataclass
class LetterItem:
    text: str                  # the disputed item line, as printed (whitespace normalised)
    decision: str              # reviewer's label: Upheld | Overturned (never read by the reasoner)
    maximus_guideline: str     # reviewer's cited guideline (label only)


@dataclass
class Letter:
    header: dict[str, str]
    summary: str
    items: list[LetterItem] = field(default_factory=list)


def split_letter(text: str) -> Letter:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    summary_at = SUMMARY_START.search(text)
    issues_at = ISSUES_START.search(text)
    if not summary_at or not issues_at or issues_at.start() < summary_at.end():
        raise LetterError("not an IMR determination letter (no CLINICAL CASE SUMMARY and IMR ISSUES sections)")
    header = {key: m.group(1) for key, pattern in HEADER_FIELDS.items()
              if (m := re.search(pattern, text[: summary_at.start()], re.I))}
    summary = _drop_preamble(text[summary_at.end(): issues_at.start()])
    items = _items(text[issues_at.end():])
    if not items:
        raise LetterError("no disputed item with an Upheld/Overturned decision found")
    return Letter(header=header, summary=normalise(summary), items=items)


def _drop_preamble(summary: str) -> str:
    # "The expert reviewer developed the following clinical case summary ... records:"
    return re.sub(r"^\s*The expert reviewer developed.*?medical records:\s*", "", summary, flags=re.S | re.I)


def _items(issues: str) -> list[LetterItem]:
    ends = list(ITEM_END.finditer(issues))
    items = []
    for n, end in enumerate(ends):
        # the item is the paragraph that ends with ": Upheld"; blank lines separate paragraphs
        before = issues[: end.start()]
        paragraph_start = max(before.rfind("\n\n"), before.rfind("\n \n"))
        start = paragraph_start + 1 if paragraph_start >= 0 else 0
        if n and start < ends[n - 1].end():
            start = ends[n - 1].end()
        item_text = normalise(issues[start: end.start()])
        item_text = re.sub(r"^.*?set forth below:\s*", "", item_text, flags=re.I).rstrip(" :")
        block_end = ends[n + 1].start() if n + 1 < len(ends) else len(issues)
        block = issues[end.end(): block_end]
        guideline = re.search(r"MAXIMUS\s+guideline:\s*(.*?)(?:Decision\s+rationale:|$)", block, re.S | re.I)
        items.append(LetterItem(item_text, end.group(1).capitalize(),
                                normalise(guideline.group(1)) if guideline else ""))
    return items


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
