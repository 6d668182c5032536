"""A readable checklist of a case's SHACL validation report: what is missing from the
documentation, request by request, and which guideline asks for it."""

from __future__ import annotations

from itertools import groupby

from reasoner.pipeline import queries
from reasoner.pipeline.engine import CaseResult


def as_text(result: CaseResult) -> str:
    rows = result.select(queries.query("output/validation-results.rq"))
    if result.conforms:
        return f"{result.source}: conforms - every requirement of every applicable recommendation is met.\n"
    lines = [f"{result.source}: does not conform - {len(rows)} requirement(s) not met", ""]
    for request, group in groupby(rows, key=lambda r: r["request"]):
        group = list(group)
        lines.append(f"{group[0]['item'] or request}")
        for row in group:
            cited = f"\n      cited: {row['citation']}" if row["citation"] else ""
            todo = f"\n      to meet it: {row['hint']}" if row["hint"] else ""
            lines.append(f"  [ ] {row['requirement']} ({row['requirementId']}): {row['message']}{todo}{cited}")
        lines.append("")
    return "\n".join(lines)
