"""`guideline-reasoner evaluate DIR`: import every letter, decide every item, and compare
with the reviewers. Agreement is measured on covered items only (an item no
recommendation applies to counts against coverage, never as a guess), per class (Upheld
recall, Overturned recall, balanced accuracy) because nine in ten items are Upheld, and
on reasons. Reason agreement needs the reviewer's main reason, labelled by hand per item
(a requirement id, or "other"; tests/fixtures/letters/dev-main-reasons.tsv for the
development letters): it agrees when our outcome is the reviewer's and, for Upheld, the
labelled requirement is among our unmet ones (for Overturned, among our met ones). Without
labels it is not measured. Cited-section agreement (the reviewer's cited section appears
among our citations) is reported beside it; it says less. Given a split file (tune and check
letter lists, drawn once by scripts/split-dev-letters), each half is reported too: the
check half is the measure of whether a change generalises."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDFS

from reasoner.letters.importer import import_letter
from reasoner.letters.reading import LetterError
from reasoner.output.markdown_text import escape
from reasoner.namespaces import GR

PREDICTED_IMR = {"not-medically-necessary": "Upheld", "medically-necessary": "Overturned"}


@dataclass
class ItemResult:
    letter: str
    item: str
    treatment: str | None
    category: str
    quantity: int | None
    physical_medicine: bool
    outcome: str
    reasons: list[str]
    citations: list[str]
    reviewer: str
    reviewer_guideline: str
    number: int = 0                 # the item's place in its letter, from 1
    main_reason: str | None = None  # hand-labelled requirement id of the reviewer's main reason

    @property
    def covered(self) -> bool:
        return self.outcome != "no-applicable-guideline"

    @property
    def predicted(self) -> str | None:
        return PREDICTED_IMR.get(self.outcome)

    @property
    def cited_section_agrees(self) -> bool:
        return cited_section_matches(self.reviewer_guideline, self.citations)

    @property
    def reason_agrees(self) -> bool | None:
        """Our decisive requirement is the reviewer's main reason (None when not labelled)."""
        if self.main_reason is None:
            return None
        wanted = "not-met" if self.reviewer == "Upheld" else "met"
        return self.predicted == self.reviewer and f"{self.main_reason}:{wanted}" in self.reasons


@dataclass
class Evaluation:
    results: list[ItemResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    letters: int = 0


def evaluate(directory: Path, reasoner, progress=None) -> Evaluation:
    from reasoner.output.render import decision_records

    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".txt", ".pdf") and p.is_file())
    out = Evaluation()
    for n, path in enumerate(files, start=1):
        if progress:
            progress(n, len(files), path.name)
        try:
            imported = import_letter(path)
        except LetterError as exc:
            out.skipped.append((path.name, str(exc)))
            continue
        out.letters += 1
        result = reasoner.decide(imported.graph, path.name)
        decided = {d["request"]: d for d in decision_records(result)}
        for n_item, (parsed, label) in enumerate(zip(imported.items, imported.labels), start=1):
            record = decided[imported.request_iri(n_item)]
            out.results.append(ItemResult(
                letter=path.name, item=label.text, treatment=parsed.treatment,
                category=category_of(parsed.treatment, reasoner.vocabulary), quantity=parsed.quantity,
                physical_medicine=is_physical_medicine(parsed.treatment, reasoner.vocabulary),
                outcome=record["outcome"],
                reasons=[f"{r['requirement']}:{r['status']}" for r in record["reasons"]],
                citations=sorted({r["citation"] for r in record["reasons"] if r["citation"]}),
                reviewer=label.decision, reviewer_guideline=label.maximus_guideline, number=n_item))
    return out


# Treatment categories as the research notes count disputed items, first match wins.
CATEGORIES = (
    ("physical-medicine", ("PhysicalMedicine", "Acupuncture", "HomeExerciseProgram", "FunctionalRestorationProgram")),
    ("electrodiagnostics", ("ElectrodiagnosticTesting",)),
    ("imaging", ("DiagnosticImaging",)),
    ("medication", ("Medication",)),
    ("injection", ("Injection",)),
    ("surgery", ("Surgery", "SurgicalAssistant", "PreoperativeTesting", "ContinuousFlowCryotherapy", "PostoperativeSling")),
    ("equipment", ("DurableMedicalEquipment", "DisposableMedicalSupply", "ElectricalStimulation", "GymMembership")),
    ("home-and-facility", ("HomeHealthServices", "SkilledNursingFacility", "Transportation")),
    ("evaluation", ("OfficeVisit", "PsychologicalEvaluation", "PsychologicalTreatment", "FunctionalCapacityEvaluation",
                    "DiagnosticTest")),
)


def category_of(treatment: str | None, vocabulary) -> str:
    if not treatment:
        return "unknown"
    iri = GR[treatment]
    for category, roots in CATEGORIES:
        if any(iri == GR[root] or (iri, RDFS.subClassOf, GR[root]) in vocabulary for root in roots):
            return category
    return "other"


def is_physical_medicine(treatment: str | None, vocabulary) -> bool:
    return category_of(treatment, vocabulary) == "physical-medicine"


def load_main_reasons(path: Path) -> dict[tuple[str, int], str]:
    """(letter id, item number) → the reviewer's main reason, from a tab-separated file of
    letter, item number, decision, reason id, note ('#' lines are comments)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            letter, number, _decision, reason = line.split("\t")[:4]
            out[(letter.strip(), int(number))] = reason.strip()
    return out


def attach_main_reasons(evaluation: "Evaluation", labels: dict[tuple[str, int], str]) -> None:
    for r in evaluation.results:
        r.main_reason = labels.get((Path(r.letter).stem, r.number))


def cited_section_matches(reviewer_guideline: str, citations: list[str]) -> bool:
    """The reviewer's cited section (or page, or document when no section is named) appears
    in one of our citations."""
    ours = " ".join(citations).lower()
    if not ours:
        return False
    sections = re.findall(r"Section\(s\):\s*(.*?)(?:\.\s|\.$|, and [A-Z]|$)", reviewer_guideline)
    pages = re.findall(r"Page\(s\):\s*([\d\-, ]+)", reviewer_guideline)
    wanted = [s.strip().lower() for group in sections for s in re.split(r",\s*|\s+and\s+", group) if len(s.strip()) > 3]
    wanted += [f"page {p.strip().split('-')[0]}" for group in pages for p in group.split(",") if p.strip()]
    wanted += [f"pages {p.strip()}" for group in pages for p in group.split(",") if "-" in p]
    if not wanted:  # document only: e.g. "MTUS Acupuncture Treatment 2007"
        docs = re.findall(r"MTUS ([A-Z][A-Za-z, ]+?) \d{4}", reviewer_guideline)
        wanted = [d.split()[0].lower() for d in docs]
    return any(w in ours for w in wanted)


def metrics(results: list[ItemResult]) -> dict:
    covered = [r for r in results if r.covered]
    upheld = [r for r in covered if r.reviewer == "Upheld"]
    overturned = [r for r in covered if r.reviewer == "Overturned"]
    upheld_recall = _ratio(sum(r.predicted == "Upheld" for r in upheld), len(upheld))
    overturned_recall = _ratio(sum(r.predicted == "Overturned" for r in overturned), len(overturned))
    recalls = [x for x in (upheld_recall, overturned_recall) if x is not None]
    labelled = [r for r in covered if r.main_reason is not None]
    return {
        "items": len(results),
        "covered": len(covered),
        "coverage": _ratio(len(covered), len(results)),
        "balanced_accuracy": round(sum(recalls) / len(recalls), 4) if recalls else None,
        "upheld_recall": upheld_recall,
        "overturned_recall": overturned_recall,
        "reason_agreement": _ratio(sum(bool(r.reason_agrees) for r in labelled), len(labelled)),
        "reason_labelled": len(labelled),
        "cited_section_agreement": _ratio(sum(r.cited_section_agrees for r in covered), len(covered)),
        "confusion": {f"reviewer {actual} / ours {ours}": sum(r.reviewer == actual and r.predicted == ours for r in covered)
                      for actual in ("Upheld", "Overturned") for ours in ("Upheld", "Overturned")},
    }


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def load_split(path: Path) -> dict[str, str]:
    """Letter id → half ("tune" or "check") from a split file."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return {letter: half for half in ("tune", "check") for letter in document[half]}


def _with_physical_medicine(results: list[ItemResult]) -> dict:
    data = metrics(results)
    data["physical_medicine"] = metrics([r for r in results if r.physical_medicine])
    return data


def report(evaluation: Evaluation, split: dict[str, str] | None = None) -> dict:
    data = _with_physical_medicine(evaluation.results)
    half_of = {r.letter: (split or {}).get(Path(r.letter).stem) for r in evaluation.results}
    if split is not None:
        data["halves"] = {half: _with_physical_medicine([r for r in evaluation.results if half_of[r.letter] == half])
                          for half in ("tune", "check")}
    data["letters"] = evaluation.letters
    data["skipped"] = [{"file": f, "reason": why} for f, why in evaluation.skipped]
    data["per_item"] = [{
        "letter": r.letter, "item": r.item, "treatment": r.treatment, "category": r.category,
        "quantity": r.quantity, "outcome": r.outcome,
        "predicted": r.predicted, "reviewer": r.reviewer, "reviewer_guideline": r.reviewer_guideline,
        "reasons": r.reasons, "citations": r.citations, "reason_agrees": r.reason_agrees,
        "cited_section_agrees": r.cited_section_agrees, "main_reason": r.main_reason,
        **({"half": half_of[r.letter]} if split is not None else {}),
    } for r in evaluation.results]
    return data


def as_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


FIGURES = ("items", "covered", "coverage", "balanced_accuracy", "upheld_recall", "overturned_recall", "reason_agreement",
           "reason_labelled", "cited_section_agreement")


def _show(x) -> str:
    return "n/a" if x is None else (f"{x:.2f}" if isinstance(x, float) else str(x))


def _figures(data: dict) -> list[tuple[str, str]]:
    rows = [(key, f"{_show(data[key])} (physical medicine: {_show(data['physical_medicine'][key])})") for key in FIGURES]
    for half, figures in data.get("halves", {}).items():
        rows += [(f"{half} {key}", f"{_show(figures[key])} (physical medicine: {_show(figures['physical_medicine'][key])})")
                 for key in FIGURES]
    return rows


def as_text(data: dict) -> str:
    lines = [f"letters read: {data['letters']}; skipped: {len(data['skipped'])}"]
    lines += [f"  skipped {s['file']}: {s['reason']}" for s in data["skipped"]]
    lines += [f"{k:18s} {v}" for k, v in _figures(data)]
    lines.append("confusion (covered items): " + "; ".join(f"{k}: {v}" for k, v in data["confusion"].items()))
    lines.append("")
    for r in data["per_item"]:
        mark = "=" if r["predicted"] == r["reviewer"] else ("?" if r["predicted"] is None else "x")
        lines.append(f"{mark} {r['letter']}: {r['item'][:70]} | ours {r['predicted'] or 'no guideline'} | reviewer {r['reviewer']}")
    return "\n".join(lines) + "\n"


def as_markdown(data: dict) -> str:
    lines = ["# Agreement with IMR reviewers", "", f"Letters read: {data['letters']}, skipped: {len(data['skipped'])}.", "",
             "| figure | all items (physical medicine) |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in _figures(data)]
    lines += ["", "| letter | item | ours | reviewer | reviewer's citation | our reasons not met |", "|---|---|---|---|---|---|"]
    for r in data["per_item"]:
        unmet = ", ".join(x.split(":")[0] for x in r["reasons"] if x.endswith("not-met"))
        item, citation = (escape(text.replace("|", "/")) for text in (r["item"][:80], r["reviewer_guideline"][:90]))
        lines.append(f"| {escape(r['letter'])} | {item} | {r['predicted'] or 'no guideline'} | {r['reviewer']} | "
                     f"{citation} | {unmet} |")
    return "\n".join(lines) + "\n"


def progress_bar(n: int, total: int, name: str) -> None:
    if sys.stderr.isatty():
        width = 30
        done = int(width * n / total)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {n}/{total} {name[:30]:30s}")
        if n == total:
            sys.stderr.write("\n")
