"""`guideline-reasoner terms`: the names a case file may use, with the ontology's labels and
definitions (queries/output/terms.rq), and for properties the JSON keys of the published
context that write them."""

from __future__ import annotations

import json

from reasoner.namespaces import GR_NS as GR  # a plain string: `--help` imports this module

KINDS = ("treatment", "region", "finding", "diagnosis", "outcome", "laterality", "purpose", "response", "property")


def json_keys() -> dict[str, list[str]]:
    """Property IRI -> the published context's keys for it ("outcome", "functionalOutcome")."""
    from reasoner.cases.jsonld_contexts import published_context

    keys: dict[str, list[str]] = {}
    for term, definition in published_context().items():
        iri = definition.get("@id") if isinstance(definition, dict) else definition
        if isinstance(iri, str) and iri.startswith("gr:"):
            keys.setdefault(str(GR) + iri[3:], []).append(term)
    return keys


def terms(kb, kind: str | None = None, word: str | None = None) -> list[dict]:
    """The rows of queries/output/terms.rq over the closed knowledge base `kb`, of `kind`
    only and holding `word` (any case) in name, label or JSON key, when given."""
    import pyoxigraph as ox

    from reasoner.pipeline import queries

    store = ox.Store()
    store.load(kb.closure_ntriples, format=ox.RdfFormat.N_TRIPLES)
    keys = json_keys()
    found = []
    for row in store.query(queries.query("output/terms.rq").text):
        iri = row["term"].value
        entry = {"kind": row["kind"].value, "name": iri[len(str(GR)):], "iri": iri,
                 "label": row["label"].value if row["label"] else None,
                 "definition": row["definition"].value if row["definition"] else None}
        if entry["kind"] == "property":
            entry["json_keys"] = sorted(keys.get(iri, []), key=lambda k: (k != entry["name"], k))
        if kind and entry["kind"] != kind:
            continue
        if word and not any(word.lower() in (text or "").lower()
                            for text in (entry["name"], entry["label"], *entry.get("json_keys", []))):
            continue
        found.append(entry)
    return found


def as_text(found: list[dict]) -> str:
    if not found:
        return "no names match\n"
    lines, kind = [], None
    for entry in found:
        if entry["kind"] != kind:
            kind = entry["kind"]
            lines.append(f"{kind}:" if not lines else f"\n{kind}:")
        keys = entry.get("json_keys")
        name = entry["name"] + (f" (JSON: {', '.join(keys)})" if keys and keys != [entry["name"]] else "")
        lines.append(f"  {name} - {entry['label'] or ''}")
        if entry["definition"]:
            lines.append(f"      {entry['definition']}")
    return "\n".join(lines) + "\n"


def as_json(found: list[dict]) -> str:
    return json.dumps({"terms": found}, indent=2, ensure_ascii=False) + "\n"
