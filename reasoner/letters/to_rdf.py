"""The case graph of an imported letter: header dates, summary facts and item lines in
the guideline-reasoner vocabulary, each with the letter text it was read from
(evidence.py). The reviewer's decisions are not in it."""

from __future__ import annotations

import re
from datetime import date

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef

from reasoner.letters.evidence import EvidenceWriter
from reasoner.letters import lexicon
from reasoner.letters.items import ParsedItem
from reasoner.letters.sections import Letter, Span
from reasoner.letters.dates import us_date
from reasoner.letters.summary import PLANNED_SURGERY, SummaryFacts, sentences_around
from reasoner.namespaces import GR, LETTER_BASE, PROV

# A surgery item and the postsurgical condition its post-operative items are for
POSTSURGICAL = (
    (r"meniscectomy|knee", "StatusPostMeniscectomy"),
    (r"shoulder.*open|open.*shoulder", "StatusPostOpenShoulderSurgery"),
    (r"shoulder|SLAP|rotator cuff", "StatusPostArthroscopicShoulderSurgery"),
    (r"carpal tunnel", "StatusPostCarpalTunnelRelease"),
    (r"fusion", "StatusPostLumbarFusion"),
    (r"discectomy|laminectomy", "StatusPostLumbarDiscectomy"),
)


def case_namespace(case_id: str) -> Namespace:
    return Namespace(f"{LETTER_BASE}{re.sub(r'[^A-Za-z0-9._-]', '_', case_id)}#")


def case_graph(case_id: str, letter: Letter, facts: SummaryFacts, items: list[ParsedItem]) -> Graph:
    ns = case_namespace(case_id)
    g = Graph()
    g.bind("gr", GR)
    g.bind("", ns)
    g.bind("prov", PROV)
    evidence = EvidenceWriter(g, ns, letter)
    case = ns.case
    g.add((case, RDF.type, GR.Case))
    g.add((case, GR.caseNumber, Literal(letter.header.get("case_number", case_id))))
    if facts.age or facts.sex:
        g.add((case, GR.hasPatient, ns.patient))
        g.add((ns.patient, RDF.type, GR.Patient))
        if facts.age and 14 <= facts.age <= 110:
            g.add((ns.patient, GR.age, Literal(facts.age, datatype=XSD.integer)))
        if facts.sex:
            g.add((ns.patient, GR.sex, Literal(facts.sex)))
        evidence.derive(ns.patient, evidence.in_summary(facts.spans.get("patient", [])))
    injury_spans = evidence.in_header("date_of_injury") or evidence.in_summary(facts.spans.get("injury_date", []))
    if facts.injury_date:
        g.add((case, GR.injuryDate, Literal(facts.injury_date, datatype=XSD.date)))
        evidence.fact(case, GR.injuryDate, Literal(facts.injury_date, datatype=XSD.date), injury_spans)
    request_date, request_date_spans = next(((found, spans) for found, spans in (
        (us_date(letter.header.get("ur_denial_date", "")), evidence.in_header("ur_denial_date")),
        (facts.review_date, evidence.in_summary(facts.spans.get("review_date", []))),
        (us_date(letter.header.get("decision_date", "")), evidence.in_header("decision_date"))) if found), (None, []))
    postsurgical = _postsurgical(items)
    for condition in facts.diagnoses + list(postsurgical):
        g.add((case, GR.hasDiagnosis, GR[condition]))
        evidence.fact(case, GR.hasDiagnosis, GR[condition], evidence.in_summary(facts.diagnosis_spans.get(condition, []))
                      + [span for n in postsurgical.get(condition, []) for span in evidence.of_item(n)])
    finding_spans = {finding: evidence.in_summary(spans) for finding, spans in facts.finding_spans.items()}
    findings = list(facts.findings) + (["SurgeryAuthorized"] if _surgery_settled(letter, facts, items) else [])
    finding_spans.setdefault("SurgeryAuthorized", evidence.in_summary(_surgery_spans(letter, facts)))
    if any(item.treatment == "Opioid" for item in items) and "OpioidTherapyUnderway" not in findings:
        findings.append("OpioidTherapyUnderway")  # an opioid prescribed beside the request
        finding_spans["OpioidTherapyUnderway"] = [span for n, item in enumerate(items) if item.treatment == "Opioid"
                                                  for span in evidence.of_item(n)]
    for finding in findings:
        g.add((case, GR.hasFinding, GR[finding]))
        evidence.fact(case, GR.hasFinding, GR[finding], finding_spans.get(finding, []))
    weeks = _weeks_of_care(facts, request_date)
    if weeks is not None:
        g.add((case, GR.failedConservativeCareWeeks, Literal(weeks, datatype=XSD.integer)))
        # weeks from the injury to the request: what it is read from is those two dates
        evidence.fact(case, GR.failedConservativeCareWeeks, Literal(weeks, datatype=XSD.integer),
                      injury_spans + request_date_spans + evidence.in_summary(facts.spans.get("care_failed", [])))
    for n, episode in enumerate(facts.episodes, start=1):
        node = ns[f"history-{n}"]
        g.add((case, GR.hasTreatmentEpisode, node))
        g.add((node, RDF.type, GR.TreatmentEpisode))
        g.add((node, GR.treatment, GR[episode.treatment]))
        if episode.visits is not None:
            g.add((node, GR.visits, Literal(episode.visits, datatype=XSD.integer)))
        if episode.outcome:
            g.add((node, GR.functionalOutcome, GR[episode.outcome]))
        if episode.response:
            g.add((node, GR.response, GR[episode.response]))
        if request_date and not episode.ongoing:
            g.add((node, GR.endDate, Literal(request_date, datatype=XSD.date)))
        evidence.derive(node, evidence.in_summary(episode.spans))
    for n, item in enumerate(items, start=1):
        _add_request(g, case, ns[f"item-{n}"], n, item, request_date)
        evidence.derive(ns[f"item-{n}"], evidence.of_item(n - 1))
        if request_date:
            evidence.fact(ns[f"item-{n}"], GR.requestDate, Literal(request_date, datatype=XSD.date), request_date_spans)
        if _add_implied_history(g, case, ns, n, item, facts):
            evidence.derive(ns[f"item-{n}-prior"], evidence.of_item(n - 1))
    return g


def _add_implied_history(g: Graph, case, ns, n: int, item: ParsedItem, facts: SummaryFacts) -> bool:
    """What an item line itself says about history: the portion the claims administrator
    already authorized will be given before the disputed rest, and "additional" visits
    follow earlier ones even when the summary does not count them."""
    treated = {e.treatment for e in facts.episodes}
    authorized = (item.original_quantity - item.quantity) if item.original_quantity and item.quantity else None
    additional = re.search(r"\badditional\b|\bcontinued?\b|\bmore\b", item.text, re.I)
    if not item.treatment or not (authorized and authorized > 0 or (additional and item.treatment not in treated)):
        return False
    node = ns[f"item-{n}-prior"]
    g.add((case, GR.hasTreatmentEpisode, node))
    g.add((node, RDF.type, GR.TreatmentEpisode))
    g.add((node, GR.treatment, GR[item.treatment]))
    g.add((node, RDFS.label, Literal("authorized portion of the request" if authorized and authorized > 0
                                     else "earlier visits implied by an 'additional' request")))
    if authorized and authorized > 0:
        g.add((node, GR.visits, Literal(authorized, datatype=XSD.integer)))
    return True


def _add_request(g: Graph, case, node: URIRef, n: int, item: ParsedItem, request_date: str | None) -> None:
    g.add((case, GR.hasRequest, node))
    g.add((node, RDF.type, GR.TreatmentRequest))
    g.add((node, RDFS.label, Literal(item.text)))
    g.add((node, GR.itemNumber, Literal(n, datatype=XSD.integer)))
    g.add((node, GR.treatment, GR[item.treatment or "Treatment"]))
    if re.match(r"\s*(?:associated surgical service|post[- ]?op|pre[- ]?op)", item.text, re.I) \
            or item.treatment in lexicon.PERIOPERATIVE:
        g.add((node, GR.carePurpose, GR.AssociatedSurgicalService))
    if item.quantity is not None and 1 <= item.quantity <= 1000:
        g.add((node, GR.quantity, Literal(item.quantity, datatype=XSD.integer)))
    if item.frequency_per_week:
        g.add((node, GR.frequencyPerWeek, Literal(item.frequency_per_week, datatype=XSD.integer)))
    if item.duration_weeks:
        g.add((node, GR.durationWeeks, Literal(item.duration_weeks, datatype=XSD.integer)))
    for region in item.regions:
        g.add((node, GR.bodyPart, GR[region]))
    if item.laterality:
        g.add((node, GR.laterality, GR[item.laterality]))
    for ingredient in item.ingredients:
        g.add((node, GR.hasIngredient, GR[ingredient]))
    if request_date:
        g.add((node, GR.requestDate, Literal(request_date, datatype=XSD.date)))


SURGERIES = ("ShoulderSurgery", "KneeSurgery", "SpinalFusion")


def _surgery_settled(letter: Letter, facts: SummaryFacts, items: list[ParsedItem]) -> bool:
    """The surgery that associated services go with is authorized: the summary says so, or
    it is scheduled and not itself among the disputed items (an IMR decides only what is
    disputed)."""
    if facts.surgery_authorized:
        return True
    return bool(PLANNED_SURGERY.search(letter.summary)) and not any(item.treatment in SURGERIES for item in items)


def _surgery_spans(letter: Letter, facts: SummaryFacts) -> list[Span]:
    """The summary sentences _surgery_settled read: the authorization, or the plan."""
    if facts.surgery_authorized:
        return facts.spans.get("surgery_authorized", [])
    planned = PLANNED_SURGERY.search(letter.summary)
    return sentences_around(letter.summary, planned.span()) if planned else []


def _postsurgical(items: list[ParsedItem]) -> dict[str, list[int]]:
    """Post-operative items, and devices used only after surgery (a sling, a cold therapy
    unit), are for the surgery requested beside them (or, when none is disputed, a surgery
    in general). Each condition with the items (from 0) it rests on: the post-operative
    items and the surgery item that names it."""
    post_op = [n for n, item in enumerate(items)
               if re.search(r"post[- ]?op", item.text, re.I) or item.treatment in lexicon.POSTOPERATIVE_DEVICES]
    if not post_op:
        return {}
    surgeries = [(n, item.text) for n, item in enumerate(items) if item.treatment in SURGERIES]
    found: dict[str, list[int]] = {}
    for n, text in surgeries:
        for pattern, condition in POSTSURGICAL:
            if re.search(pattern, text, re.I):
                found.setdefault(condition, list(post_op)).append(n)
                break
    return found or {"PostsurgicalStatus": post_op}


def _weeks_of_care(facts: SummaryFacts, request_date: str | None) -> int | None:
    """Weeks from injury to request, when the summary shows treatment in that time and says
    it has not resolved the complaint: the conservative care a guideline asks to try first."""
    if not (facts.injury_date and request_date and facts.episodes and facts.care_failed):
        return None
    days = (date.fromisoformat(request_date) - date.fromisoformat(facts.injury_date)).days
    return max(days // 7, 0) if days >= 0 else None
