"""Build the case library: for every recommendation of the knowledge base, a case that
meets it and a case that fails it, with the expected decision written from the
recommendation's own facts (its numbers, scope and requirements), not from running the
reasoner.

    python tests/build_case_library.py      # rewrite tests/case-library/

How a case is built:
- "meets": the request sits in the recommendation's scope and everything it asks for is
  documented: body part, diagnosis, the required findings, weeks of failed conservative
  care, a failed first-line treatment, a home program under way, a quantity equal to its
  limit. Expected: medically necessary, every requirement of the recommendation met.
- "fails-<requirement>": the same case with one thing taken away or pushed past a limit,
  one case per requirement that can fail. Expected: not medically necessary, that
  requirement not met.
- "yields": a recommendation that conflicts with one of an earlier evidence tier (ODG's
  26 CRPS visits against the MTUS 24) gets a case showing that the earlier tier decides
  and it contributes no reason.
- Not-recommended recommendations: "fails" is a request in their scope; "meets" (only for
  those scoped to regions) is the same treatment outside them, where they do not apply.
Recommendations that cannot fail (recommended with no condition) or cannot be met
(not recommended everywhere) get only the case that exists; the coverage test names them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph

HERE = Path(__file__).resolve().parent
LIBRARY = HERE / "case-library"
sys.path.insert(0, str(HERE.parent))

from reasoner.kb.knowledge import KnowledgeBase  # noqa: E402
from reasoner.namespaces import GR  # noqa: E402

BASE = "https://w3id.org/guideline-reasoner/case-library/"
# Requirements a "fails" case can break, in the order the cases are named.
FAIL_ORDER = ("within-visit-limit", "within-per-request-limit", "within-statutory-visit-cap", "within-duration-limit", "duration-stated",
              "compound-ingredients-recommended", "conservative-care-failed", "first-line-treatment-failed",
              "adjunct-to-active-treatment", "in-cognitive-behavioural-program", "alongside-an-nsaid", "not-maintenance-care",
              "functional-improvement-documented", "equipment-named",
              "body-part-not-excluded", "treatment-recommended", "body-part-specified")
FINDING_REQUIREMENTS = "finding"
DEFAULT_REGIONS = ("LowBack", "Knee", "Shoulder", "Wrist", "Elbow", "Hip", "CervicalSpine", "AnkleAndFoot", "Head")


def local(term) -> str:
    return str(term).rsplit("#", 1)[-1]


@dataclass
class Rec:
    id: str
    treatment: str
    status: str
    regions: list[str]
    conditions: list[str]
    purpose: str | None
    phase: str | None
    trial: int | None
    max: int | None
    max_use: int | None
    max_per_request: int | None
    min_cc: int | None
    cc_waived_by: list[str]             # finding classes that lift the conservative-care requirement
    first_line: list[str]
    excluded: list[str]
    requires: list[str]                 # requirement ids
    findings: dict[str, list[str]]      # requirement id -> required finding classes
    companions: dict[str, str]          # requirement id -> the companion treatment it asks for
    rank: int                           # evidence tier rank
    conflicts: list[str]                # recommendations it conflicts with


@dataclass
class CaseSpec:
    body_part: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    findings: set[str] = field(default_factory=set)
    conservative_weeks: int | None = None
    episodes: list[dict] = field(default_factory=list)
    quantity: int = 1
    duration_weeks: int | None = None
    purpose: str | None = None
    ingredients: list[str] = field(default_factory=list)
    treatment: str | None = None  # the request's treatment, when not the recommendation's own


class Library:
    def __init__(self, kb: KnowledgeBase):
        self.g: Graph = kb.graph
        self.sub = self._subclass_closure()

    def _subclass_closure(self) -> dict[str, set[str]]:
        parents: dict[str, set[str]] = {}
        for s, o in self.g.subject_objects(RDFS.subClassOf):
            parents.setdefault(local(s), set()).add(local(o))
        closed = {}
        for start in parents:
            seen, todo = set(), [start]
            while todo:
                for p in parents.get(todo.pop(), ()):
                    if p not in seen:
                        seen.add(p)
                        todo.append(p)
            closed[start] = seen
        return closed

    def broader_or_same(self, cls: str) -> set[str]:
        return {cls} | self.sub.get(cls, set())

    def value(self, s, p):
        v = self.g.value(s, p)
        return None if v is None else v.toPython() if hasattr(v, "toPython") else v

    def recs(self) -> list[Rec]:
        out = []
        for r in sorted(self.g.subjects(RDF.type, GR.Recommendation)):
            requires, findings, companions = [], {}, {}
            for req in self.g.objects(r, GR.requires):
                rid = str(self.g.value(req, GR.requirementId))
                requires.append(rid)
                if self.g.value(req, GR.companionTreatment) is not None:
                    companions[rid] = local(self.g.value(req, GR.companionTreatment))
                needed = sorted(local(f) for f in self.g.objects(req, GR.requiredFinding))
                if needed:
                    findings[rid] = needed
            out.append(Rec(
                id=local(r), treatment=local(self.g.value(r, GR.aboutTreatment)), status=local(self.g.value(r, GR.status)),
                regions=sorted(local(x) for x in self.g.objects(r, GR.appliesToBodyRegion)),
                conditions=sorted(local(x) for x in self.g.objects(r, GR.appliesToCondition)),
                purpose=(local(self.g.value(r, GR.appliesToCarePurpose)) if self.g.value(r, GR.appliesToCarePurpose) else None),
                phase=(local(self.g.value(r, GR.appliesToPhase)) if self.g.value(r, GR.appliesToPhase) else None),
                trial=self.value(r, GR.trialVisits), max=self.value(r, GR.maxVisits), max_use=self.value(r, GR.maxUseWeeks),
                max_per_request=self.value(r, GR.maxPerRequest),
                min_cc=self.value(r, GR.minConservativeCareWeeks),
                cc_waived_by=sorted(local(x) for x in self.g.objects(r, GR.conservativeCareWaivedBy)),
                first_line=sorted(local(x) for x in self.g.objects(r, GR.firstLineTreatment)),
                excluded=sorted(local(x) for x in self.g.objects(r, GR.excludedIngredient)),
                requires=sorted(requires), findings=findings, companions=companions, rank=self.rank(r),
                conflicts=sorted({local(x) for x in self.g.objects(r, GR.conflictsWith)}
                                 | {local(x) for x in self.g.subjects(GR.conflictsWith, r)})))
        return out

    def rank(self, r) -> int:
        citation = self.g.value(r, GR.hasCitation)
        guideline = self.g.value(self.g.value(citation, GR.citedEdition), GR.editionOf)
        return int(self.g.value(self.g.value(guideline, GR.evidenceTier), GR.tierRank))

    def all_findings(self) -> set[str]:
        return {local(f) for f in self.g.objects(None, GR.requiredFinding)}

    def region_parts(self, region: str) -> set[str]:
        """The region and every region it lies in."""
        out, todo = {region}, [region]
        while todo:
            for parent in self.g.objects(GR[todo.pop()], GR.partOf):
                if local(parent) not in out:
                    out.add(local(parent))
                    todo.append(local(parent))
        return out

    def excluded_regions_for(self, treatment: str) -> set[str]:
        """Regions where a not-recommended recommendation about this treatment (or a
        broader one) would apply."""
        covering = self.broader_or_same(treatment)
        out = set()
        for r in self.g.subjects(GR.status, GR.NotRecommended):
            if local(self.g.value(r, GR.aboutTreatment)) in covering:
                out |= {local(x) for x in self.g.objects(r, GR.appliesToBodyRegion)}
        return out

    def default_region(self, rec: Rec) -> str | None:
        if rec.regions:
            return rec.regions[0]
        for condition in rec.conditions:
            for c in [condition] + sorted(self.sub.get(condition, ())):
                region = self.g.value(GR[c], GR.affectsRegion)
                if region is not None:
                    return local(region)
        excluded = self.excluded_regions_for(rec.treatment)
        for region in DEFAULT_REGIONS:
            if not (self.region_parts(region) & excluded):
                return region
        return None

    def outside_region(self, rec: Rec) -> str | None:
        excluded = self.excluded_regions_for(rec.treatment)
        for region in DEFAULT_REGIONS:
            if not (self.region_parts(region) & (set(rec.regions) | excluded)):
                return region
        return None

    # ------------------------------------------------------------------ cases
    def meeting_spec(self, rec: Rec) -> CaseSpec:
        spec = CaseSpec(body_part=self.default_region(rec), diagnoses=list(rec.conditions[:1]),
                        findings=set(self.all_findings()) - {"EmployerAuthorizedAdditionalVisits"},
                        conservative_weeks=52, purpose=rec.purpose)
        # no finding that lifts the conservative-care requirement: the case shows the care itself
        spec.findings -= {f for f in spec.findings if self.broader_or_same(f) & set(rec.cc_waived_by)}
        for first in rec.first_line:
            spec.episodes.append({"treatment": first, "response": "Ineffective"})
        spec.episodes.append({"treatment": "HomeExerciseProgram", "ongoing": True})
        for companion in sorted(set(rec.companions.values()) - {"ActiveTreatment"}):  # the home program is active
            spec.episodes.append({"treatment": companion, "ongoing": True})
        if rec.phase == "Continuation":
            spec.episodes.append({"treatment": rec.treatment, "visits": 0, "outcome": "ObjectiveFunctionalImprovement"})
        limit = rec.trial or rec.max
        spec.quantity = limit if limit and "within-visit-limit" in rec.requires else 1
        spec.duration_weeks = rec.max_use
        if "compound-ingredients-recommended" in rec.requires:
            spec.ingredients = ["TopicalDiclofenac"]
        return spec

    def break_requirement(self, rec: Rec, spec: CaseSpec, requirement: str) -> CaseSpec:
        if requirement == "within-visit-limit":
            spec.quantity = (rec.trial or rec.max) + 1
        elif requirement == "within-statutory-visit-cap":
            spec.episodes.append({"treatment": rec.treatment, "visits": rec.max, "outcome": "ObjectiveFunctionalImprovement"})
        elif requirement == "within-per-request-limit":
            spec.quantity = rec.max_per_request + 1
        elif requirement == "within-duration-limit":
            spec.duration_weeks = rec.max_use + 1
        elif requirement == "duration-stated":
            spec.duration_weeks = None
        elif requirement == "compound-ingredients-recommended":
            spec.ingredients.append(rec.excluded[0])
        elif requirement == "conservative-care-failed":
            spec.conservative_weeks = rec.min_cc - 1
        elif requirement == "first-line-treatment-failed":
            spec.episodes = [e for e in spec.episodes if e.get("response") != "Ineffective"]
        elif requirement in rec.companions:
            spec.episodes = [e for e in spec.episodes if not e.get("ongoing")]
        elif requirement == "not-maintenance-care":
            spec.purpose = "MaintenanceCare"
        elif requirement == "functional-improvement-documented":
            spec.episodes.append({"treatment": rec.treatment, "visits": max(rec.trial or 0, 1), "outcome": "TemporaryReliefOnly"})
            spec.quantity = 1
        elif requirement == "equipment-named":
            spec.treatment = "UnnamedEquipment"  # "DME", with no device named
        elif requirement == "body-part-specified":
            spec.body_part = None
            if rec.regions and not spec.diagnoses:
                spec.diagnoses = [self.condition_in(rec.regions[0])]
        elif requirement in rec.findings:
            drop = {f for f in spec.findings if self.broader_or_same(f) & set(rec.findings[requirement])}
            spec.findings -= drop
        return spec

    def condition_in(self, region: str) -> str:
        for c in sorted(self.g.subjects(GR.affectsRegion, None)):
            if local(self.g.value(c, GR.affectsRegion)) in self.region_parts_below(region):
                return local(c)
        raise LookupError(f"no condition located in {region}")

    def region_parts_below(self, region: str) -> set[str]:
        out = {region}
        for part in self.g.subjects(GR.partOf, GR[region]):
            out |= self.region_parts_below(local(part))
        return out

    def failable(self, rec: Rec) -> list[str]:
        """The requirements a case can break while the recommendation still applies."""
        if rec.status == "NotRecommended":
            return ["body-part-not-excluded" if rec.regions else "treatment-recommended"]
        order = [r for r in FAIL_ORDER if r in rec.requires and r not in ("treatment-recommended", "body-part-not-excluded")]
        return order + sorted(r for r in rec.requires if r in rec.findings)

    def yields_to(self, rec: Rec, recs: dict[str, Rec]) -> str | None:
        """A conflicting recommendation of an earlier guideline tier, which decides."""
        earlier = [c for c in rec.conflicts if 0 < recs[c].rank < rec.rank]
        return earlier[0] if earlier else None

    def same_tier_veto(self, rec: Rec, recs: dict[str, Rec]) -> str | None:
        """A conflicting not-recommended recommendation of the same tier, which applies beside it."""
        vetoes = [c for c in rec.conflicts if recs[c].rank == rec.rank and recs[c].status == "NotRecommended"]
        return vetoes[0] if vetoes else None


def turtle(rec: Rec, variant: str, spec: CaseSpec, treatment: str) -> str:
    ns = f"{BASE}{rec.id}-{variant}#"
    lines = [f"# Case library: {variant} case for kb:{rec.id}. Generated by tests/build_case_library.py.",
             "@prefix gr:  <https://w3id.org/guideline-reasoner/ontology#> .",
             "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
             f"@prefix :    <{ns}> .", ""]
    case = [":case a gr:Case", 'gr:injuryDate "2010-01-01"^^xsd:date', "gr:hasRequest :request"]
    case += [f"gr:hasDiagnosis gr:{d}" for d in spec.diagnoses]
    case += [f"gr:hasFinding gr:{f}" for f in sorted(spec.findings)]
    if spec.conservative_weeks is not None:
        case.append(f"gr:failedConservativeCareWeeks {spec.conservative_weeks}")
    case += [f"gr:hasTreatmentEpisode :episode-{n}" for n in range(1, len(spec.episodes) + 1)]
    lines.append(" ;\n    ".join(case) + " .")
    for n, e in enumerate(spec.episodes, start=1):
        ep = [f":episode-{n} a gr:TreatmentEpisode", f"gr:treatment gr:{e['treatment']}"]
        if "visits" in e:
            ep.append(f"gr:visits {e['visits']}")
        if "outcome" in e:
            ep.append(f"gr:functionalOutcome gr:{e['outcome']}")
        if "response" in e:
            ep.append(f"gr:response gr:{e['response']}")
        if not e.get("ongoing"):
            ep.append('gr:endDate "2016-12-01"^^xsd:date')
        lines.append(" ;\n    ".join(ep) + " .")
    req = [":request a gr:TreatmentRequest", f"gr:treatment gr:{treatment}", f"gr:quantity {spec.quantity}",
           'gr:requestDate "2017-01-15"^^xsd:date']
    if spec.body_part:
        req.append(f"gr:bodyPart gr:{spec.body_part}")
    if spec.duration_weeks is not None:
        req.append(f"gr:durationWeeks {spec.duration_weeks}")
    if spec.purpose:
        req.append(f"gr:carePurpose gr:{spec.purpose}")
    req += [f"gr:hasIngredient gr:{i}" for i in spec.ingredients]
    lines.append(" ;\n    ".join(req) + " .")
    return "\n".join(lines) + "\n"


def build(kb: KnowledgeBase | None = None) -> dict[str, str]:
    """File name -> content for the whole library."""
    lib = Library(kb or KnowledgeBase())
    recs = lib.recs()
    by_id = {r.id: r for r in recs}
    files: dict[str, str] = {}
    for rec in recs:
        variants = []
        earlier = lib.yields_to(rec, by_id)
        veto = lib.same_tier_veto(rec, by_id)
        if earlier:
            variants.append(("yields", lib.meeting_spec(rec), {"applicable": True, "yields_to": earlier}))
        elif rec.status == "NotRecommended":
            variants.append(("fails", lib.meeting_spec(rec), {"applicable": True, "outcome": "not-medically-necessary",
                                                               "requirement": lib.failable(rec)[0], "status": "not-met"}))
            outside = lib.outside_region(rec) if rec.regions else None
            if outside:
                spec = lib.meeting_spec(rec)
                spec.body_part, spec.diagnoses = outside, []
                variants.append(("meets", spec, {"applicable": False}))
        else:
            variants.append(("meets", lib.meeting_spec(rec), {
                "applicable": True, "requirements": rec.requires, "status": "met",
                "outcome": "not-medically-necessary" if veto else "medically-necessary",
                **({"vetoed_by": veto} if veto else {})}))
            for requirement in lib.failable(rec):
                broken = lib.break_requirement(rec, lib.meeting_spec(rec), requirement)
                variants.append((f"fails-{requirement}", broken, {
                    "applicable": True, "outcome": "not-medically-necessary", "requirement": requirement,
                    "status": "not-met"}))
        for variant, spec, expected in variants:
            name = f"{rec.id}-{variant}"
            files[f"{name}.ttl"] = turtle(rec, variant, spec, spec.treatment or rec.treatment)
            files[f"{name}.expected.json"] = json.dumps({"recommendation": rec.id, "variant": variant, **expected},
                                                        indent=1, sort_keys=True) + "\n"
    return files


def main() -> None:
    LIBRARY.mkdir(exist_ok=True)
    files = build()
    for old in LIBRARY.glob("*"):
        if old.name not in files and old.name != "README.md":
            old.unlink()
    for name, content in files.items():
        (LIBRARY / name).write_text(content)
    print(f"{len(files) // 2} cases written to {LIBRARY}")


if __name__ == "__main__":
    main()
