"""`guideline-reasoner report`: per request the decision, the IMR outcome, each criterion
met or not with observed and limit values, the citation, evidence tier and edition, the
records relied on, a smaller quantity a reviewer could approve, what would make the
request approvable, and a rationale paragraph in determination-letter form. Everything is
read from the decision triples (queries/output/); the templates only lay it out."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from reasoner.pipeline import queries
from reasoner.pipeline.engine import CaseResult
from reasoner.output.render import OUTCOME_WORDS, decision_records


def report_data(result: CaseResult) -> dict:
    records = decision_records(result)
    texts: dict[str, list[dict]] = defaultdict(list)
    for row in result.select(queries.query("output/recommendation-texts.rq")):
        texts[row["request"]].append(row)
    case_records = result.select(queries.query("output/case-records.rq"))
    for record in records:
        record["outcome_words"] = OUTCOME_WORDS[record["outcome"]]
        record["recommendations"] = texts.get(record["request"], [])
        record["rationale"] = rationale(record)
        record["to_approve"] = sorted({r["hint"] for r in record["reasons"] if r["hint"]})
    return {"source": result.source, "decisions": records, "records": case_records}


def rationale(record: dict) -> str:
    """A determination-letter paragraph built from the decision's triples."""
    title = record["item"] or (f"{record['treatment']} x {record['quantity']}" if record["quantity"] else record["treatment"])
    if record["outcome"] == "cannot-decide":
        return (f"The request for {title} is not decided: " + "; ".join(record["problems"])
                + ". Correct the records and submit it again.")
    unmapped = ("Codes of the records that the knowledge base does not map, so not read: "
                + "; ".join(record["unmapped_codes"]) + ".") if record.get("unmapped_codes") else ""
    if record["outcome"] == "no-applicable-guideline":
        return " ".join(part for part in (f"No recommendation in the knowledge base covers the request for {title}; "
                                          "a reviewer must decide it on other evidence.", unmapped) if part)
    parts = []
    cited = sorted({r["citation"] for r in record["reasons"] if r["citation"]})
    for rec in record["recommendations"]:
        parts.append(f"{rec['definition']}")
    if cited:
        parts.append(f"(Cited: {'; '.join(cited)}.)")
    unmet = [r for r in record["reasons"] if r["status"] == "not-met"]
    met = [r for r in record["reasons"] if r["status"] == "met"]
    for reason in unmet:
        numbers = ""
        if reason["observed"] is not None and reason["limit"] is not None:
            numbers = f" ({reason['observed']} against a limit of {reason['limit']})"
        parts.append(f"{(reason['message'] or reason['label']).rstrip('.')}{numbers}.")
    if met and not unmet:
        parts.append("The records meet each requirement: " + ", ".join(r["label"] for r in met) + ".")
    verdict = ("medically necessary" if record["outcome"] == "medically-necessary" else "not medically necessary")
    parts.append(f"Therefore the request for {title} is {verdict}.")
    if record.get("approvable_quantity"):
        parts.append(f"A request for {record['approvable_quantity']} would fall within the guideline's limit.")
    if record["provisional"]:
        parts.append("This decision rests on a fact the knowledge base has not yet verified (grade C).")
    if unmapped:
        parts.append(unmapped)
    return " ".join(p if p.endswith((".", ")")) else p + "." for p in parts)


@lru_cache(maxsize=2)
def _environment(kind: str):
    """HTML escapes every printed value (labels and item text come from case files and
    letters); Markdown escapes them its own way (reasoner/output/markdown_text.py)."""
    from jinja2 import Environment, PackageLoader

    from reasoner.output import markdown_text

    options = dict(loader=PackageLoader("reasoner.output", "templates"), trim_blocks=True, lstrip_blocks=True)
    if kind == "html":
        return Environment(autoescape=True, **options)
    environment = Environment(autoescape=False, finalize=markdown_text.escape, **options)
    environment.filters["code"] = markdown_text.code
    return environment


def as_html(results: list[CaseResult]) -> str:
    return _environment("html").get_template("report.html.j2").render(cases=[report_data(r) for r in results])


def as_markdown(results: list[CaseResult]) -> str:
    return _environment("markdown").get_template("report.md.j2").render(cases=[report_data(r) for r in results])
