"""The case graph of a FHIR R4 bundle, in the vocabulary of every case (shapes/case-input.ttl):

- requests: the items of a prior-authorization Claim (Da Vinci PAS: `use` preauthorization
  or predetermination), completed from the ServiceRequest an item names
  (extension-requestedService); without such a Claim, each ServiceRequest and
  MedicationRequest. Code -> treatment, quantity, bodySite -> body region and laterality,
  date (Claim.created, authoredOn) -> request date, Timing -> frequency and weeks;
- Condition (ICD-10-CM) -> diagnoses; Observation -> findings, and a functional outcome or
  a response (effective, ineffective, not tolerated: valueCodeableConcept) for the
  Procedures or MedicationStatements it is partOf (or whose focus it is);
- completed Procedures -> one treatment episode per treatment: each Procedure a visit, the
  first and last dates its start and end; MedicationStatement -> an episode of the drug
  from its start date, with the weeks taken (to its end, or to the request while active); Claim.accident.date -> injury date; Patient -> sex and age.

What each code means is read from the ontology (codes.py). A code no term carries is named
in gr:unmappedCode (on the request for its own codes, on the case for the rest) and in the
importer's notes; a request any of whose codes (treatment, body site, laterality) is
unmapped asks for gr:Treatment itself, which no recommendation covers, so it is decided
"no applicable guideline", never on a guess."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef

from reasoner.fhir.bundle import Bundle
from reasoner.fhir.codes import CodeMap, Coding, Meaning
from reasoner.namespaces import FHIR_BASE, GR, PAS_REQUESTED_SERVICE as REQUESTED_SERVICE, SNOMED

# SNOMED CT compositional grammar: a body structure refined by laterality (272741003 |Laterality|)
LATERALITY_REFINED = re.compile(r"^\s*(\d+)\s*:\s*(?:\{\s*)?272741003\s*=\s*(\d+)\s*\}?\s*$")
OPEN_STATUSES = {"active", "draft", "on-hold"}          # a request still to be decided
STRUCK = {"entered-in-error", "cancelled"}              # records that say nothing
ACTIVE_CONDITION = {"active", "recurrence", "relapse"}
WEEK_UNITS = {"wk": 1, "w": 1, "week": 1, "weeks": 1, "d": 1 / 7, "day": 1 / 7, "days": 1 / 7, "mo": 4, "a": 52}


@dataclass
class ImportedBundle:
    case_id: str
    graph: Graph
    notes: list[str] = field(default_factory=list)  # what could not be mapped or read, for people


@dataclass
class _Request:
    label: str
    codings: list[Coding]
    sites: list[list[Coding]]  # one list per body-site CodeableConcept: its codings say the same thing
    quantity: Decimal | None = None
    date: str | None = None
    frequency_per_week: int | None = None
    duration_weeks: int | None = None
    where: str = ""
    unreadable: list[str] = field(default_factory=list)  # what the record says that no case term can hold


def bundle_case(bundle: Bundle, codes: CodeMap, case_id: str) -> ImportedBundle:
    requests = _requests(bundle)
    codings = [c for r in requests for c in r.codings] + [part for r in requests for s in r.sites for c in s for part in _refined(c)]
    codings += [c for r in bundle.resources for c in _record_codings(r, bundle)]
    meanings = codes.meanings(codings)
    ns = Namespace(f"{FHIR_BASE}{quote(case_id, safe='')}#")
    g = Graph()
    g.bind("gr", GR)
    g.bind("", ns)
    imported = ImportedBundle(case_id, g)
    case = ns.case
    g.add((case, RDF.type, GR.Case))
    g.add((case, GR.caseNumber, Literal(case_id)))
    writer = _Writer(g, case, ns, meanings, imported.notes)
    writer.request_date = next((r.date for r in requests if r.date), None)
    for n, request in enumerate(requests, start=1):
        writer.request(ns[f"request-{n}"], n, request)
    writer.diagnoses(bundle)
    writer.findings_and_outcomes(bundle)
    writer.episodes(bundle)
    writer.patient_and_injury(bundle, writer.request_date)
    return imported


# --- what the bundle asks for ---------------------------------------------------------

def _requests(bundle: Bundle) -> list[_Request]:
    claims = [c for c in bundle.of_type("Claim") if c.use in ("preauthorization", "predetermination")]
    if claims:
        return [_claim_item(claim, item, bundle) for claim in claims for item in claim.item or []]
    found = []
    for sr in bundle.of_type("ServiceRequest"):
        if sr.status in OPEN_STATUSES and not sr.doNotPerform:
            found.append(_service_request(sr))
    for mr in bundle.of_type("MedicationRequest"):
        if mr.status in OPEN_STATUSES and not mr.doNotPerform:
            found.append(_medication_request(mr, bundle))
    return found


def _claim_item(claim, item, bundle: Bundle) -> _Request:
    where = f"Claim/{claim.id or '?'} item {item.sequence}"
    sites = [s for s in [_concept_codings(item.bodySite)] + [_concept_codings(sub) for sub in item.subSite or []] if s]
    request = _Request(_concept_label(item.productOrService) or where, _concept_codings(item.productOrService), sites,
                       item.quantity.value if item.quantity else None, _day(claim.created), where=where)
    asked = next((bundle.resolve(e.valueReference) for e in item.extension or []
                  if e.url == REQUESTED_SERVICE and e.valueReference is not None), None)
    if asked is not None and asked.get_resource_type() == "ServiceRequest":
        detail = _service_request(asked)
        request.sites = request.sites or detail.sites
        request.quantity = request.quantity if request.quantity is not None else detail.quantity
        request.frequency_per_week, request.duration_weeks = detail.frequency_per_week, detail.duration_weeks
        request.unreadable += detail.unreadable
    return request


def _service_request(sr) -> _Request:
    where = f"ServiceRequest/{sr.id or '?'}"
    request = _Request(_concept_label(sr.code) or where, _concept_codings(sr.code),
                       [s for s in (_concept_codings(site) for site in sr.bodySite or []) if s],
                       sr.quantityQuantity.value if sr.quantityQuantity else None, _day(sr.authoredOn), where=where)
    if sr.quantityRange is not None or sr.quantityRatio is not None:
        request.unreadable.append("a quantity given as a range or ratio")
    repeat = sr.occurrenceTiming.repeat if sr.occurrenceTiming else None
    if repeat is not None:
        if repeat.frequency and repeat.period == 1 and repeat.periodUnit == "wk":
            request.frequency_per_week = repeat.frequency
        bounds = repeat.boundsDuration
        if bounds is not None and bounds.value and (bounds.code or bounds.unit) in ("wk", "week", "weeks"):
            request.duration_weeks = _whole(bounds.value)
    return request


def _medication_request(mr, bundle: Bundle) -> _Request:
    where = f"MedicationRequest/{mr.id or '?'}"
    concept = _medication_concept(mr, bundle)
    request = _Request(_concept_label(concept) or where, _concept_codings(concept), [], None, _day(mr.authoredOn), where=where)
    supply = mr.dispenseRequest.expectedSupplyDuration if mr.dispenseRequest else None
    if supply is not None and supply.value:
        per_week = WEEK_UNITS.get(supply.code or supply.unit or "")
        if per_week and 0 < supply.value < 10**4:
            request.duration_weeks = max(1, math.ceil(float(supply.value) * per_week - 1e-9))  # part of a week asks for it
    return request


def _medication_concept(resource, bundle: Bundle):
    if resource.medicationCodeableConcept is not None:
        return resource.medicationCodeableConcept
    medication = bundle.resolve(resource.medicationReference)
    return medication.code if medication is not None and medication.get_resource_type() == "Medication" else None


# --- the records beside the request -----------------------------------------------------

def _record_codings(resource, bundle: Bundle) -> list[Coding]:
    kind = resource.get_resource_type()
    if kind in ("Condition", "Procedure"):
        return _concept_codings(resource.code)
    if kind == "Observation":
        return _concept_codings(resource.code) + _concept_codings(resource.valueCodeableConcept)
    if kind == "MedicationStatement":
        return _concept_codings(_medication_concept(resource, bundle))
    if kind == "Claim":
        return [c for concept in _claim_diagnoses(resource, bundle) for c in _concept_codings(concept)]
    return []


def _claim_diagnoses(claim, bundle: Bundle) -> list:
    """Claim.diagnosis as codes: its CodeableConcept (one given as a diagnosisReference is
    a Condition of the bundle, read as such)."""
    found = []
    for diagnosis in claim.diagnosis or []:
        if diagnosis.diagnosisCodeableConcept is not None:
            found.append(diagnosis.diagnosisCodeableConcept)
    return found


class _Writer:
    def __init__(self, g: Graph, case: URIRef, ns: Namespace, meanings: dict[tuple[str, str], Meaning], notes: list[str]):
        self.g, self.case, self.ns, self.meanings, self.notes = g, case, ns, meanings, notes
        self.request_date: str | None = None  # the first request's date: "still taken" counts to it

    def _terms(self, codings: list[Coding], kind: str) -> set[str]:
        return {t for c in codings for t in self._meaning(c).terms.get(kind, ())}

    def _meaning(self, coding: Coding) -> Meaning:
        return self.meanings.get((coding.system, coding.code), Meaning())

    def _unmapped(self, subject: URIRef, where: str, coding: Coding, why: str = "not mapped") -> None:
        text = f"{where}: {coding.token()}"
        self.g.add((subject, GR.unmappedCode, Literal(text)))
        self.notes.append(f"{text}: {why}")

    def _unreadable(self, subject: URIRef, where: str, why: str) -> None:
        """Something of a request that is no code yet cannot be read: named like an unmapped code."""
        self.g.add((subject, GR.unmappedCode, Literal(f"{where}: {why}")))
        self.notes.append(f"{where}: {why}")

    def request(self, node: URIRef, n: int, request: _Request) -> None:
        g = self.g
        g.add((self.case, GR.hasRequest, node))
        g.add((node, RDF.type, GR.TreatmentRequest))
        g.add((node, RDFS.label, Literal(request.label)))
        g.add((node, GR.itemNumber, Literal(n, datatype=XSD.integer)))
        treatments = self._terms(request.codings, "Treatment")
        understood = len(treatments) == 1
        if not request.codings:
            self._unreadable(node, request.where, "no code says what is requested")
        elif not treatments:  # the codings of one concept are alternatives: one mapped is enough
            for coding in request.codings:
                self._unmapped(node, f"{request.where} code", coding)
        elif len(treatments) > 1:
            self._unreadable(node, request.where, f"its codes mean different treatments ({', '.join(sorted(treatments))})")
        regions = {r for c in request.codings for r in self._meaning(c).regions}
        sides = set()
        for site in request.sites:
            parts = [part for coding in site for part in _refined(coding)]
            read = [self._meaning(part).terms for part in parts]
            regions |= {r for terms in read for r in terms.get("BodyRegion", ())}
            sides |= {s for terms in read for s in terms.get("Laterality", ())}
            if not any(terms.get("BodyRegion") or terms.get("Laterality") for terms in read):
                understood = False
                for part in parts:
                    self._unmapped(node, f"{request.where} body site", part)
        if len(sides) > 1:
            understood = False
            self._unreadable(node, request.where, f"its body sites name more than one side ({', '.join(sorted(sides))})")
        quantity = _whole(request.quantity)
        if request.quantity is not None and not (quantity is not None and 1 <= quantity <= 1000):
            understood = False  # the record gives a number this case cannot hold: not decided as if it gave none
            self._unreadable(node, request.where, f"quantity {request.quantity} is not a whole number from 1 to 1000")
            quantity = None
        for why in request.unreadable:
            understood = False
            self._unreadable(node, request.where, why)
        g.add((node, GR.treatment, GR[next(iter(treatments))] if understood else GR.Treatment))
        for region in sorted(regions):
            g.add((node, GR.bodyPart, GR[region]))
        for side in sorted(sides):
            g.add((node, GR.laterality, GR[side]))
        if quantity is not None:
            g.add((node, GR.quantity, Literal(quantity, datatype=XSD.integer)))
        if request.frequency_per_week:
            g.add((node, GR.frequencyPerWeek, Literal(request.frequency_per_week, datatype=XSD.integer)))
        if request.duration_weeks:
            g.add((node, GR.durationWeeks, Literal(request.duration_weeks, datatype=XSD.integer)))
        if request.date:
            g.add((node, GR.requestDate, Literal(request.date, datatype=XSD.date)))

    def diagnoses(self, bundle: Bundle) -> None:
        coded = [(f"Condition/{c.id or '?'} code", c.code) for c in bundle.of_type("Condition") if _asserted_condition(c)]
        coded += [(f"Claim/{claim.id or '?'} diagnosis", concept) for claim in bundle.of_type("Claim")
                  for concept in _claim_diagnoses(claim, bundle)]
        for where, concept in coded:
            codings = _concept_codings(concept)
            found = self._terms(codings, "Condition")
            for term in sorted(found):
                self.g.add((self.case, GR.hasDiagnosis, GR[term]))
            if not found:
                for coding in codings:
                    self._unmapped(self.case, where, coding)

    # what an Observation may say about the course it is partOf: (kind of term, case property)
    COURSE_RESULTS = (("FunctionalOutcome", GR.functionalOutcome), ("TreatmentResponse", GR.response))

    def findings_and_outcomes(self, bundle: Bundle) -> None:
        # id(Procedure or MedicationStatement) -> kind -> (date, term): the latest documented wins
        self.results: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
        for obs in bundle.of_type("Observation"):
            if obs.status in STRUCK or obs.valueBoolean is False:
                continue  # struck out, or the finding is recorded absent
            codings = _concept_codings(obs.code) + _concept_codings(obs.valueCodeableConcept)
            findings = self._terms(codings, "ClinicalFinding")
            for term in sorted(findings):
                self.g.add((self.case, GR.hasFinding, GR[term]))
            targets = [bundle.resolve(ref) for ref in (obs.partOf or []) + (obs.focus or [])]
            courses = [t for t in targets if t is not None and t.get_resource_type() in ("Procedure", "MedicationStatement")]
            said = False
            for kind, _ in self.COURSE_RESULTS:
                found = self._terms(_concept_codings(obs.valueCodeableConcept), kind)
                said = said or bool(found)
                if len(found) == 1 and courses:
                    when = _day(obs.effectiveDateTime) or ""
                    for course in courses:
                        if kind not in self.results[id(course)] or self.results[id(course)][kind][0] <= when:
                            self.results[id(course)][kind] = (when, next(iter(found)))
                elif found:
                    self.notes.append(f"Observation/{obs.id or '?'}: an outcome or response is read only for the "
                                      "Procedures or MedicationStatements it is partOf (or whose focus it is), one each; left out")
            if not findings and not said:
                for coding in _concept_codings(obs.code):
                    self._unmapped(self.case, f"Observation/{obs.id or '?'} code", coding)

    def _course_results(self, node: URIRef, resources: list) -> None:
        for kind, prop in self.COURSE_RESULTS:
            dated = sorted(self.results[id(r)][kind] for r in resources if kind in self.results.get(id(r), {}))
            if dated:
                self.g.add((node, prop, GR[dated[-1][1]]))

    def episodes(self, bundle: Bundle) -> None:
        visits: dict[str, list] = defaultdict(list)
        for procedure in bundle.of_type("Procedure"):
            if procedure.status != "completed":
                continue
            codings = _concept_codings(procedure.code)
            treatments = self._terms(codings, "Treatment")
            if len(treatments) != 1:
                for coding in codings:
                    self._unmapped(self.case, f"Procedure/{procedure.id or '?'} code", coding,
                                   "not mapped; its visits are not counted" if not treatments else "means several treatments")
                continue
            visits[next(iter(treatments))].append(procedure)
        for treatment, procedures in sorted(visits.items()):
            node = self.ns[f"history-{treatment}"]
            self._episode(node, treatment)
            self.g.add((node, GR.visits, Literal(len(procedures), datatype=XSD.integer)))
            days = sorted(d for p in procedures for d in _performed(p) if d)
            if days:
                self.g.add((node, GR.startDate, Literal(days[0], datatype=XSD.date)))
                self.g.add((node, GR.endDate, Literal(days[-1], datatype=XSD.date)))
            self._course_results(node, procedures)
        for n, statement in enumerate(bundle.of_type("MedicationStatement"), start=1):
            if statement.status not in ("active", "completed"):
                continue
            codings = _concept_codings(_medication_concept(statement, bundle))
            treatments = self._terms(codings, "Treatment")
            if len(treatments) != 1:
                for coding in codings:
                    self._unmapped(self.case, f"MedicationStatement/{statement.id or '?'} medication", coding)
                continue
            node = self.ns[f"medication-{n}"]
            self._episode(node, next(iter(treatments)))
            self._course_results(node, [statement])
            start = _day(statement.effectiveDateTime) or (_day(statement.effectivePeriod.start) if statement.effectivePeriod else None)
            if start:
                self.g.add((node, GR.startDate, Literal(start, datatype=XSD.date)))
            end = _day(statement.effectivePeriod.end) if statement.effectivePeriod else None
            if end and statement.status == "completed":
                self.g.add((node, GR.endDate, Literal(end, datatype=XSD.date)))
            # weeks taken, from the start to the end or (still taken) to the request: a part week counts
            until = end if statement.status == "completed" else self.request_date
            if start and until and until >= start:
                weeks = max(1, math.ceil((date.fromisoformat(until) - date.fromisoformat(start)).days / 7))
                self.g.add((node, GR.durationWeeks, Literal(weeks, datatype=XSD.integer)))

    def _episode(self, node: URIRef, treatment: str) -> None:
        self.g.add((self.case, GR.hasTreatmentEpisode, node))
        self.g.add((node, RDF.type, GR.TreatmentEpisode))
        self.g.add((node, GR.treatment, GR[treatment]))

    def patient_and_injury(self, bundle: Bundle, request_date: str | None) -> None:
        accident = next((c.accident.date for c in bundle.of_type("Claim") if c.accident and c.accident.date), None)
        if accident:
            self.g.add((self.case, GR.injuryDate, Literal(_day(accident), datatype=XSD.date)))
        patients = bundle.of_type("Patient")
        if len(patients) != 1:
            return
        patient, node = patients[0], self.ns.patient
        sex = patient.gender if patient.gender in ("male", "female", "unknown") else None
        age = _age(patient.birthDate, request_date)
        if sex or age is not None:
            self.g.add((self.case, GR.hasPatient, node))
            self.g.add((node, RDF.type, GR.Patient))
            if sex:
                self.g.add((node, GR.sex, Literal(sex)))
            if age is not None and 14 <= age <= 110:
                self.g.add((node, GR.age, Literal(age, datatype=XSD.integer)))


# --- FHIR data types --------------------------------------------------------------------

def _concept_codings(concept) -> list[Coding]:
    if concept is None:
        return []
    return [Coding(c.system or "", c.code or "", c.display or "") for c in concept.coding or [] if c.code]


def _concept_label(concept) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    first = next((c for c in concept.coding or [] if c.display or c.code), None)
    return (first.display or first.code) if first else None


def _refined(coding: Coding) -> list[Coding]:
    """A SNOMED CT body structure with a laterality refinement (72696002:272741003=24028007,
    the knee, right) read as the two concepts it names; any other coding as itself."""
    found = LATERALITY_REFINED.match(coding.code) if coding.system == SNOMED else None
    if not found:
        return [coding]
    return [Coding(SNOMED, found.group(1), coding.display), Coding(SNOMED, found.group(2))]


def _asserted_condition(condition) -> bool:
    verification = {c.code for c in (condition.verificationStatus.coding or [])} if condition.verificationStatus else set()
    clinical = {c.code for c in (condition.clinicalStatus.coding or [])} if condition.clinicalStatus else set()
    if verification & {"refuted", "entered-in-error"}:
        return False
    return not clinical or bool(clinical & ACTIVE_CONDITION)


def _performed(procedure) -> list[str | None]:
    if procedure.performedDateTime is not None:
        return [_day(procedure.performedDateTime)]
    if procedure.performedPeriod is not None:
        return [_day(procedure.performedPeriod.start), _day(procedure.performedPeriod.end)]
    return []


def _day(value) -> str | None:
    """The calendar day of a FHIR date or dateTime as written (no time-zone shift); None for
    a partial date (a year, a year and month), which names no day."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return value[:10]
    return None


def _age(birth, on: str | None) -> int | None:
    born, today = _day(birth), on
    if not born or not today:
        return None
    b, t = date.fromisoformat(born), date.fromisoformat(today)
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


def _whole(value) -> int | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() and abs(number) < 10**6 else None
