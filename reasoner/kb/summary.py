"""`guideline-reasoner kb`: what the knowledge base holds, by grade and by guideline."""

from __future__ import annotations

import json
from collections import Counter

import pyoxigraph as ox

from reasoner.pipeline import queries
from reasoner.kb.knowledge import KnowledgeBase


def summary(kb: KnowledgeBase) -> dict:
    store = ox.Store()
    store.load(kb.graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    rows = [{v.value: row[v.value].value for v in solutions.variables}
            for solutions in [store.query(queries.query("output/kb-recommendations.rq").text)]
            for row in solutions]
    grades = {row["recommendation"]: row["grade"] for row in rows}
    by_guideline = Counter()
    for guideline in sorted({(r["recommendation"], r["guideline"]) for r in rows}):
        by_guideline[guideline[1]] += 1
    by_grade = Counter(grades.values())
    return {
        "version": kb.version,
        "recommendations": len(grades),
        "by_grade": {grade: by_grade.get(grade, 0) for grade in ("A", "B", "C")},
        "guidelines": dict(sorted(by_guideline.items())),
    }


def as_text(data: dict) -> str:
    lines = [f"knowledge base {data['version']}: {data['recommendations']} recommendations",
             "by grade: " + ", ".join(f"{g} {n}" for g, n in data["by_grade"].items()),
             "by guideline (a recommendation citing several counts under each):"]
    lines += [f"  {n:4d}  {title}" for title, n in data["guidelines"].items()]
    return "\n".join(lines) + "\n"


def as_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
