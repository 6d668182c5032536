"""Split an IMR final determination letter into the parts the importer may read (header
dates, the CLINICAL CASE SUMMARY, each disputed item line) and the parts it must not
(the reviewer's decision, guideline citation and rationale, kept only as labels)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from reasoner.letters.dates import us_date
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


Span = tuple[int, int]  # [start, end) character offsets


@dataclass
class LetterItem:
    text: str                  # the disputed item line, as printed (whitespace normalised)
    decision: str              # reviewer's label: Upheld | Overturned (never read by the reasoner)
    maximus_guideline: str     # reviewer's cited guideline (label only)
    span: Span | None = None   # where the item line is in the letter text


@dataclass(frozen=True)
class TextMap:
    """Where the characters of a whitespace-normalised stretch of the letter came from:
    each word's offset in the normalised text beside its offset in the letter text."""

    normalised_at: tuple[int, ...] = (0,)
    letter_at: tuple[int, ...] = (0,)

    def to_letter(self, span: Span) -> Span:
        """A span of the normalised text as the span of the letter text it came from."""
        start, end = span
        return self._letter(start), self._letter(max(end - 1, start)) + (1 if end > start else 0)

    def _letter(self, at: int) -> int:
        word = max(bisect_right(self.normalised_at, at) - 1, 0)
        return self.letter_at[word] + at - self.normalised_at[word]


@dataclass
class Letter:
    header: dict[str, str]
    summary: str
    items: list[LetterItem] = field(default_factory=list)
    text: str = ""                                              # the whole letter, line endings as \n
    summary_map: TextMap = field(default_factory=TextMap)       # summary offsets -> letter offsets
    header_spans: dict[str, Span] = field(default_factory=dict)  # header field -> its "Label: value" in the letter


def split_letter(text: str) -> Letter:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    summary_at = SUMMARY_START.search(text)
    issues_at = ISSUES_START.search(text)
    if not summary_at or not issues_at or issues_at.start() < summary_at.end():
        raise LetterError("not an IMR determination letter (no CLINICAL CASE SUMMARY and IMR ISSUES sections)")
    found = {key: m for key, pattern in HEADER_FIELDS.items()
             if (m := re.search(pattern, text[: summary_at.start()], re.I))}
    for key, m in found.items():
        if key != "case_number" and us_date(m.group(1)) is None:
            raise LetterError(f"header '{' '.join(m.group(0).split())}': no such day (month/day/year)")
    summary_start = summary_at.end() + _preamble_length(text[summary_at.end(): issues_at.start()])
    summary, summary_map = normalise_mapped(text[summary_start: issues_at.start()], summary_start)
    items = _items(text[issues_at.end():], issues_at.end())
    if not items:
        raise LetterError("no disputed item with an Upheld/Overturned decision found")
    return Letter(header={key: m.group(1) for key, m in found.items()}, summary=summary, items=items, text=text,
                  summary_map=summary_map, header_spans={key: m.span() for key, m in found.items()})


def _preamble_length(summary: str) -> int:
    # "The expert reviewer developed the following clinical case summary ... records:"
    m = re.match(r"\s*The expert reviewer developed.*?medical records:\s*", summary, flags=re.S | re.I)
    return m.end() if m else 0


def _items(issues: str, issues_at: int) -> list[LetterItem]:
    ends = list(ITEM_END.finditer(issues))
    items = []
    for n, end in enumerate(ends):
        # the item is the paragraph that ends with ": Upheld"; blank lines separate paragraphs
        before = issues[: end.start()]
        start = _paragraph_start(before)
        if n and start < ends[n - 1].end():
            start = ends[n - 1].end()
        item_text, item_map = normalise_mapped(issues[start: end.start()], issues_at + start)
        lead = re.match(r".*?set forth below:\s*", item_text, flags=re.I)
        kept = (lead.end() if lead else 0, len(item_text.rstrip(" :")))
        item_text = item_text[kept[0]:].rstrip(" :")
        block_end = ends[n + 1].start() if n + 1 < len(ends) else len(issues)
        block = issues[end.end(): block_end]
        guideline = re.search(r"MAXIMUS\s+guideline:\s*(.*?)(?:Decision\s+rationale:|$)", block, re.S | re.I)
        items.append(LetterItem(item_text, end.group(1).capitalize(),
                                normalise(guideline.group(1)) if guideline else "",
                                item_map.to_letter((kept[0], max(kept))) if item_text else None))
    return items


def _paragraph_start(before: str) -> int:
    """Where the paragraph that ends `before` starts. A paragraph whose first word is in
    lower case continues the sentence a page break cut ("... (2) was authorized" / blank
    line / "by the Claims Administrator. The remaining ..."), so it starts further back."""
    start = len(before)
    while True:
        blank = max(before.rfind("\n\n", 0, start), before.rfind("\n \n", 0, start))
        if blank < 0:
            return 0
        start = blank + 1
        if not re.match(r"\s*[a-z]", before[start:]) or not before[:blank].strip():
            return start
        start = blank  # search before this blank line


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def normalise_mapped(text: str, offset: int) -> tuple[str, TextMap]:
    """normalise(text), with the map back to the letter (text starts at `offset` in it)."""
    words = list(re.finditer(r"\S+", text))
    normalised_at, at = [], 0
    for word in words:
        normalised_at.append(at)
        at += len(word.group()) + 1
    mapping = TextMap(tuple(normalised_at), tuple(offset + w.start() for w in words)) if words else TextMap((0,), (offset,))
    return " ".join(w.group() for w in words), mapping
