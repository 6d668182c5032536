"""Text from cases and letters printed into Markdown so that, once rendered, it reads as the
text itself: no raw HTML (a `<script>` label stays letters), no links or images (which a
renderer would fetch), no emphasis, no broken table cells, no new blocks from a newline."""

from __future__ import annotations

import re

# Characters CommonMark / GitHub Markdown give a meaning inline; each is escaped with a
# backslash, which CommonMark defines for every ASCII punctuation character.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# '&' starts a character reference only when a name or number and ';' follow: escape just that,
# so "Manual therapy & manipulation" stays as it was.
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINE_BREAKS = re.compile(r"\s*[\r\n\f\v\u2028\u2029]+\s*")


class Markdown(str):
    """Markdown that is already safe (built here); `escape` passes it through unchanged."""


def escape(value) -> str:
    if isinstance(value, Markdown):
        return value
    text = "" if value is None else str(value)
    text = _LINE_BREAKS.sub(" ", text)
    return _ENTITY.sub(r"\\&", _SPECIAL.sub(r"\\\1", text))


def code(value) -> Markdown:
    """A code span: its content is literal in CommonMark, so it is fenced by more backticks
    than it contains rather than escaped."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")
