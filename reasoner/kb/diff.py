"""`guideline-reasoner diff OLD_KB NEW_KB CASES...`: decide each case with both knowledge
bases and report the decisions whose outcome or reasons differ, reason by reason."""

from __future__ import annotations

import json
from pathlib import Path

from reasoner.pipeline.engine import Reasoner
from reasoner.kb.knowledge import KnowledgeBase
from reasoner.paths import KB_IRI
from reasoner.output.render import decision_records


def _reason_key(reason: dict) -> tuple:
    return (reason["requirement"], reason["recommendation"], reason["status"], reason["observed"], reason["limit"])


def compare(old_catalog: Path, new_catalog: Path, cases: list[Path]) -> list[dict]:
    old, new = Reasoner(KnowledgeBase(old_catalog, KB_IRI)), Reasoner(KnowledgeBase(new_catalog, KB_IRI))
    changes = []
    for case in cases:
        before = {d["request"]: d for d in decision_records(old.decide_file(case))}
        after = {d["request"]: d for d in decision_records(new.decide_file(case))}
        for request in sorted(set(before) | set(after)):
            b, a = before.get(request), after.get(request)
            old_reasons = {_reason_key(r) for r in (b or {}).get("reasons", [])}
            new_reasons = {_reason_key(r) for r in (a or {}).get("reasons", [])}
            if b and a and b["outcome"] == a["outcome"] and old_reasons == new_reasons:
                continue
            changes.append({
                "case": str(case), "request": request,
                "old_outcome": b["outcome"] if b else None, "new_outcome": a["outcome"] if a else None,
                "reasons_removed": [dict(zip(("requirement", "recommendation", "status", "observed", "limit"), k))
                                    for k in sorted(old_reasons - new_reasons, key=str)],
                "reasons_added": [dict(zip(("requirement", "recommendation", "status", "observed", "limit"), k))
                                  for k in sorted(new_reasons - old_reasons, key=str)],
            })
    return changes


def as_json(changes: list[dict]) -> str:
    return json.dumps({"changed": changes}, indent=2) + "\n"


def as_text(changes: list[dict]) -> str:
    if not changes:
        return "no decision changes\n"
    lines = []
    for c in changes:
        moved = c["old_outcome"] if c["old_outcome"] == c["new_outcome"] else f"{c['old_outcome']} -> {c['new_outcome']}"
        lines.append(f"{c['case']}: {c['request']}: {moved}")
        for tag, reasons in (("-", c["reasons_removed"]), ("+", c["reasons_added"])):
            for r in reasons:
                numbers = f" ({r['observed']} vs {r['limit']})" if r["limit"] is not None else ""
                lines.append(f"  {tag} {r['requirement']} {r['status']}{numbers} [{r['recommendation'].rsplit('#', 1)[-1]}]")
    return "\n".join(lines) + "\n"
