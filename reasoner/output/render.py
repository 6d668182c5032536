"""Renderings of decided cases. Everything here is read from the decision triples by the
SELECT queries in queries/output/; nothing is decided or worded here that the graph does
not say."""

from __future__ import annotations

import json
from collections import defaultdict
from operator import itemgetter
from typing import TYPE_CHECKING

from reasoner.pipeline import queries
from reasoner.pipeline.engine import CaseResult
from reasoner.pipeline.run import Store
from reasoner.namespaces import PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph  # only Turtle and JSON-LD output need rdflib

OUTCOME_WORDS = {
    "medically-necessary": "MEDICALLY NECESSARY",
    "not-medically-necessary": "NOT MEDICALLY NECESSARY",
    "no-applicable-guideline": "NO APPLICABLE GUIDELINE (needs a human reviewer)",
    "cannot-decide": "CANNOT DECIDE (the data cannot all be true)",
}


def decision_records(result: CaseResult | Store, source: str | None = None) -> list[dict]:
    """The decisions in a decided store (one case's result, or a batch chunk's store) in
    the JSON output contract (see README); `case` is `source`, or the result's own."""
    evidence = reason_evidence(result)
    reasons: dict[str, list[dict]] = defaultdict(list)
    found_reasons, editions = _reasons(result)
    for reason in found_reasons:
        # only cases read from letters carry evidence; other reasons keep their keys as they were
        found = evidence.get((reason["request"], reason["requirement"], reason["recommendation"]))
        if found:
            reason["evidence"] = found
        reasons[reason.pop("request")].append(reason)
    unmapped: dict[str, list[str]] = defaultdict(list)
    for row in result.select(queries.query("output/unmapped-codes.rq")):
        unmapped[row["request"]].append(row["code"])
    records = []
    for row in result.select(queries.query("output/decisions.rq")):
        records.append({
            "case": result.source if source is None else source,
            "request": row["request"],
            "item": row["item"],
            "treatment": row["treatmentLabel"],
            "quantity": row["quantity"],
            "outcome": row["outcomeId"],
            "imr_outcome": row["imrOutcome"],
            "evidence_tier": row["tierLabel"],
            "provisional": bool(row["provisional"]),
            "approvable_quantity": row["approvable"],
            "problems": sorted(row["problems"].split(" | ")) if row["problems"] else [],
            "input_hash": row["inputHash"],
            "kb_version": row["kbVersion"],
            "editions": sorted(editions.get(row["request"], ())),
            "reasons": reasons.get(row["request"], []),
        })
        # only cases imported from FHIR have codes left unmapped; other records keep their keys as they were
        if unmapped.get(row["request"]):
            records[-1]["unmapped_codes"] = sorted(unmapped[row["request"]])
    return records


_reason_key = itemgetter("request", "requirementId", "requirementLabel", "hint", "statusId", "observed", "limit",
                         "recommendation")


def _reasons(result: CaseResult | Store) -> tuple[list[dict], dict[str, set]]:
    """The reasons of every decision (queries/output/reasons.rq), each with its `request`: a
    check's rows gathered (one per citation text and message it has), by request, not-met
    first, then by requirement and recommendation; and per request the labels of the
    guideline editions its reasons cite."""
    gathered: dict[tuple, tuple[set, set]] = {}
    editions: dict[str, set] = defaultdict(set)
    for row in result.select(queries.query("output/reasons.rq")):
        key = _reason_key(row)
        texts = gathered.get(key)
        if texts is None:
            texts = gathered[key] = (set(), set())
        texts[0].add(row["citation"])
        texts[1].add(row["message"])
        if row["editionLabel"] is not None:
            editions[key[0]].add(row["editionLabel"])
    keys = sorted(gathered, key=lambda key: (key[1], key[7]))
    keys.sort(key=lambda key: key[4], reverse=True)  # stable: not-met before met, as DESC(?statusId)
    keys.sort(key=lambda key: key[0])
    reasons = []
    for key in keys:
        request, requirement, label, hint, status, observed, limit, recommendation = key
        citations, messages = gathered[key]
        reasons.append({"request": request, "requirement": requirement, "status": status,
                        "observed": observed, "limit": limit, "recommendation": recommendation,
                        "citation": "; ".join(sorted(citations - {None})) or None,
                        "message": " ".join(sorted(messages - {None})) or None,
                        "label": label, "hint": hint if status == "not-met" else None})
    return reasons, editions


def reason_evidence(result: CaseResult | Store) -> dict[tuple[str, str, str], list[dict]]:
    """(request, requirement id, recommendation) -> the text spans the reason rests on, in
    the order they stand in the letter (queries/output/reason-evidence.rq)."""
    found: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for row in result.select(queries.query("output/reason-evidence.rq")):
        found[(row["request"], row["requirementId"], row["recommendation"])].append(
            {"quote": row["quote"], "start": row["start"], "end": row["end"]})
    for spans in found.values():
        spans.sort(key=lambda span: (span["start"] is None, span["start"] or 0, span["end"] or 0, span["quote"]))
    return found


def as_json(results: list[CaseResult]) -> str:
    decisions = [record for result in results for record in decision_records(result)]
    return json.dumps({"decisions": decisions}, indent=2, ensure_ascii=False)


def as_text(results: list[CaseResult]) -> str:
    lines: list[str] = []
    for result in results:
        lines.append(result.source)
        for n, record in enumerate(decision_records(result), start=1):
            title = record["item"] or record["treatment"] or record["request"]
            detail = ", ".join(
                part for part in (record["treatment"],
                                  f"quantity {record['quantity']}" if record["quantity"] else None) if part)
            lines.append(f"  {n}. {title} ({detail})")
            imr = f" (IMR: {record['imr_outcome']})" if record["imr_outcome"] else ""
            tier = f"; decided on {record['evidence_tier']}" if record["evidence_tier"] else ""
            provisional = "; PROVISIONAL: rests on an unverified (grade C) fact" if record["provisional"] else ""
            lines.append(f"     {OUTCOME_WORDS[record['outcome']]}{imr}{tier}{provisional}")
            for problem in record["problems"]:
                lines.append(f"     PROBLEM {problem}")
            for code in record.get("unmapped_codes", []):
                lines.append(f"     NOT MAPPED {code}")
            for reason in record["reasons"]:
                lines.append("     " + _reason_line(reason))
                lines.extend(f'         evidence: "{_shortened(span["quote"])}"' for span in reason.get("evidence", []))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _reason_line(reason: dict) -> str:
    mark = "met    " if reason["status"] == "met" else "NOT MET"
    numbers = ""
    if reason["observed"] is not None and reason["limit"] is not None:
        numbers = f" ({reason['observed']} vs limit {reason['limit']})"
    said = f": {reason['message']}" if reason["message"] else ""
    cited = f" [{reason['citation']}]" if reason["citation"] else ""
    return f"{mark} {reason['requirement']}{numbers}{said}{cited}"


QUOTE_WIDTH = 160  # nine in ten letter sentences fit


def _shortened(quote: str) -> str:
    """A quote on one line of text output, cut to a readable length (JSON and the report
    keep it whole); a case file's quote may hold line breaks, a letter's never does."""
    quote = " ".join(quote.split())
    return quote if len(quote) <= QUOTE_WIDTH else quote[: QUOTE_WIDTH - 1].rstrip() + "…"


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def as_rdf(results: list[CaseResult], fmt: str) -> str:
    """The decision graph (decisions, reasons, provenance) of every case."""
    from rdflib import Graph

    merged = Graph()
    for result in results:
        merged += result.explanation
    bind_prefixes(merged)
    if fmt == "json-ld":
        from reasoner.cases.jsonld_contexts import published_context

        document = json.loads(merged.serialize(format="json-ld", context=published_context()))
        return json.dumps(_canonical(document), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return merged.serialize(format=fmt)


def _canonical(node, key: str | None = None):
    """The JSON-LD in one order: rdflib writes nodes and values in hash order, which
    changes from run to run. Lists of values and nodes are sorted; a context and an
    @list keep theirs (their order means something)."""
    if isinstance(node, dict):
        return {k: v if k == "@context" else _canonical(v, k) for k, v in node.items()}
    if isinstance(node, list):
        items = [_canonical(item) for item in node]
        return items if key == "@list" else sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return node
