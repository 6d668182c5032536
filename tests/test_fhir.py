"""FHIR R4 bundles (reasoner/fhir/): each bundle of tests/fixtures/fhir/ (written from the FHIR
R4 specification) imports to the case graph beside it (NAME.ttl, compared as graphs) and is
decided as its guideline calls for (NAME.expected.json, written from the recommendations in
ontology/knowledge/); codes are mapped only through the ontology; a bundle that is not valid
FHIR is one line naming the file and the element, exit 2, nothing written; the real Da Vinci
PAS bundles of ../shared/fhir/ are read, and what they code in X12 is named as unmapped."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from conftest import FIXTURES, ROOT, assert_decision_explains_itself, decisions_by_request, glob_nonempty, local_name

BUNDLES = glob_nonempty(FIXTURES / "fhir", "*.json")
BUNDLES = [p for p in BUNDLES if not p.name.endswith(".expected.json")]
PAS = ROOT.parent / "shared" / "fhir"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasoner", *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          timeout=300)


def assert_same_graph(actual: Graph, expected: Graph) -> None:
    if not isomorphic(actual, expected):
        _, only_actual, only_expected = graph_diff(to_isomorphic(actual), to_isomorphic(expected))
        pytest.fail("case graphs differ\nonly in actual:\n" + only_actual.serialize(format="nt")
                    + "\nonly in expected:\n" + only_expected.serialize(format="nt"))


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.stem for b in BUNDLES])
def test_bundle_imports_to_the_expected_case_graph(reasoner, bundle):
    expected = Graph().parse(bundle.with_suffix(".ttl"), format="turtle")
    assert_same_graph(reasoner.import_fhir(bundle).graph, expected)


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.stem for b in BUNDLES])
def test_bundle_decisions_match_the_guideline(reasoner, bundle):
    expected = json.loads(bundle.with_name(bundle.stem + ".expected.json").read_text())
    actual = decisions_by_request(reasoner.decide_file(bundle))  # decide reads the bundle itself
    assert sorted(actual) == sorted(expected)
    for request, want in expected.items():
        got = actual[request]
        assert_decision_explains_itself(got)
        assert (got["outcome"], got["imr_outcome"]) == (want["outcome"], want["imr_outcome"]), request
        reasons = sorted([r["requirement"], r["status"], r["observed"], r["limit"], local_name(r["recommendation"])]
                         for r in got["reasons"])
        assert reasons == sorted(want["reasons"]), request
        assert got.get("unmapped_codes", []) == want.get("unmapped_codes", []), request
        if "citation" in want:
            assert {r["citation"] for r in got["reasons"]} == {want["citation"]}, request


def test_import_fhir_writes_the_case_and_names_unmapped_codes_on_stderr(tmp_path):
    bundle = FIXTURES / "fhir" / "physical-therapy-knee-claim.json"
    out = tmp_path / "case.ttl"
    done = run("import-fhir", str(bundle), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert_same_graph(Graph().parse(out, format="turtle"), Graph().parse(bundle.with_suffix(".ttl"), format="turtle"))
    notes = done.stderr.strip().splitlines()
    assert notes == [f"guideline-reasoner: note: {bundle}: Claim/knee-pa item 2 code: {CPT}|97530 (Therapeutic activities): "
                     "not mapped"]
    # the written case decides as the bundle does, and decide shows the unmapped code
    shown = run("decide", str(out))
    assert shown.returncode == 0, shown.stderr
    assert "NO APPLICABLE GUIDELINE" in shown.stdout
    assert f"NOT MAPPED Claim/knee-pa item 2 code: {CPT}|97530 (Therapeutic activities)" in shown.stdout


def test_import_fhir_writes_json_ld_in_the_published_context(tmp_path, reasoner):
    bundle = FIXTURES / "fhir" / "therapeutic-exercise-myalgia.json"
    out = tmp_path / "case.jsonld"
    assert run("import-fhir", str(bundle), "-o", str(out)).returncode == 0
    assert "@context" in json.loads(out.read_text())  # the published context, as import-letter writes it
    assert decisions_by_request(reasoner.decide_file(out))["request-1"]["outcome"] == "medically-necessary"


def _bundle(*resources) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _service_request(code: str, system: str = CPT, **more) -> dict:
    return {"resourceType": "ServiceRequest", "id": "sr", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p"}, "code": {"coding": [{"system": system, "code": code}]},
            "authoredOn": "2024-02-01", **more}


def _decide(reasoner, tmp_path, document: dict) -> dict:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document))
    return decisions_by_request(reasoner.decide_file(path))


def test_an_unmapped_body_site_leaves_the_request_uncovered_and_named(reasoner, tmp_path):
    """The record names a body part the ontology cannot read: deciding as if none were named
    ("body part not specified") would rest on our ignorance, so the item is a human's."""
    site = {"coding": [{"system": SNOMED, "code": "999999001", "display": "some site"}]}
    decided = _decide(reasoner, tmp_path, _bundle(_service_request("97140", bodySite=[site], quantityQuantity={"value": 6})))
    assert decided["request-1"]["outcome"] == "no-applicable-guideline"
    assert decided["request-1"]["unmapped_codes"] == [f"ServiceRequest/sr body site: {SNOMED}|999999001 (some site)"]
    # the same request with a mapped site (the lumbar region) is decided on the guideline
    lumbar = {"coding": [{"system": SNOMED, "code": "37822005"}]}
    decided = _decide(reasoner, tmp_path, _bundle(_service_request("97140", bodySite=[lumbar], quantityQuantity={"value": 6})))
    assert decided["request-1"]["outcome"] == "medically-necessary"
    assert "unmapped_codes" not in decided["request-1"]


@pytest.mark.parametrize("system, code, expected", [
    (ICD10, "M75.121", {"FullThicknessRotatorCuffTear"}),   # longest notation wins over M75.1
    (ICD10, "M7512", {"FullThicknessRotatorCuffTear"}),     # dots aside
    (ICD10, "M75.41", {"RotatorCuffSyndrome"}),
    (ICD10, "M54.50", {"LowBackPain"}),
    (ICD10, "M54", set()),                                  # a broader code than any notation means nothing here
    (ICD10, "S83.2", set()),                                # meniscus tear is not a knee sprain
    ("urn:oid:2.16.840.1.113883.6.90", "S83.511A", {"KneeSprainStrain"}),
    (CPT, "97110", {"TherapeuticExercise"}),
    (CPT, "971100", set()),                                 # CPT codes do not nest: exact only
    (SNOMED, "97110", set()),                               # a code means something only in its own system
    ("https://w3id.org/guideline-reasoner/ontology", "MuscleSpasm", {"MuscleSpasm"}),
    ("https://w3id.org/guideline-reasoner/ontology", "Case", set()),  # a vocabulary class, not a term of any kind
])
def test_codes_mean_what_the_ontology_says(reasoner, system, code, expected):
    from reasoner.fhir.codes import Coding

    meaning = reasoner.code_map.meanings([Coding(system, code)]).get((system, code))
    assert (set().union(*meaning.terms.values()) if meaning else set()) == expected


def test_a_procedure_code_names_its_region(reasoner):
    from reasoner.fhir.codes import Coding

    meaning = reasoner.code_map.meanings([Coding(CPT, "72148")])[(CPT, "72148")]
    assert (dict(meaning.terms), meaning.regions) == ({"Treatment": {"MagneticResonanceImaging"}}, {"LumbarSpine"})


BAD = [
    ("not JSON", "{", "not valid JSON"),
    ("not a resource", "[1, 2]", "not a FHIR resource"),
    ("a Patient", json.dumps({"resourceType": "Patient"}), "a FHIR Bundle is expected, not a Patient"),
    ("bad decimal", json.dumps(_bundle(_service_request("97110", quantityQuantity={"value": "abc"}))),
     "entry[0].resource(ServiceRequest).quantityQuantity.value"),
    ("missing subject", json.dumps(_bundle({"resourceType": "ServiceRequest", "status": "active", "intent": "order"})),
     "entry[0].resource(ServiceRequest).subject: not valid FHIR R4: Field required"),
    ("unknown resource", json.dumps(_bundle({"resourceType": "NoSuchThing"})),
     "entry[0].resource.resourceType: not a FHIR R4 resource type"),
    ("bad date", json.dumps(_bundle(_service_request("97110", authoredOn="2024-13-45"))), "authoredOn"),
    ("asks for nothing", json.dumps(_bundle({"resourceType": "Patient", "id": "p"})), "the bundle asks for nothing"),
    ("huge integer", json.dumps(_bundle(_service_request("97110"))).replace('"2024-02-01"', "1" + "0" * 5000),
     "not valid JSON"),
]


@pytest.mark.parametrize("name, text, expected", BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("command", ["import-fhir", "decide"])
def test_a_bundle_that_is_not_valid_fhir_is_one_line_exit_2_nothing_written(tmp_path, name, text, expected, command):
    if command == "decide" and not text.lstrip().startswith('{"resourceType": "Bundle"'):
        pytest.skip("decide reads only a Bundle as FHIR; other JSON is a JSON case")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(text)
    out = tmp_path / "out.ttl"
    done = run(command, str(bundle), "-o", str(out))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"guideline-reasoner: error: {bundle}"), done.stderr
    assert expected in done.stderr
    assert not out.exists()


def test_reading_a_bundle_never_reaches_the_network(reasoner, tmp_path, monkeypatch):
    """Profiles, references and code systems are URLs; none is fetched."""
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    document = _bundle(_service_request("97140", meta={"profile": ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-servicerequest"]},
                                        basedOn=[{"reference": "https://elsewhere.example.org/fhir/CarePlan/1"}],
                                        bodySite=[{"coding": [{"system": SNOMED, "code": "37822005"}]}],
                                        quantityQuantity={"value": 6}))
    assert _decide(reasoner, tmp_path, document)["request-1"]["outcome"] == "medically-necessary"


def test_outcomes_follow_the_procedures_they_are_part_of(reasoner, tmp_path):
    """The same bundle without the outcome Observation: three earlier visits with no
    documented improvement, so a further six are not supported (no trial is set, so any
    earlier visit calls for documented improvement)."""
    document = json.loads((FIXTURES / "fhir" / "therapeutic-exercise-myalgia.json").read_text())
    without = copy.deepcopy(document)
    without["entry"] = [e for e in without["entry"] if e["resource"]["resourceType"] != "Observation"]
    decided = _decide(reasoner, tmp_path, without)["request-1"]
    assert decided["outcome"] == "not-medically-necessary"
    assert [(r["requirement"], r["status"]) for r in decided["reasons"] if r["status"] == "not-met"] == \
        [("functional-improvement-documented", "not-met")]


@pytest.mark.skipif(not PAS.is_dir(), reason="../shared/fhir is not beside the checkout")
@pytest.mark.parametrize("name, requests", [("conformant_pas_bundle_v110.json", 1),
                                            ("conformant_pas_bundle_v110_multiple_items.json", 2),
                                            ("pas_claim.json", 1)])
def test_real_da_vinci_pas_bundles_are_read_and_their_x12_codes_named(reasoner, name, requests):
    """Their items are X12 service types ("3", Consultation), which no guideline speaks of:
    each is no applicable guideline, with the code named; the diagnosis G89.4 (chronic pain
    syndrome) is read as chronic pain."""
    path = PAS / name
    imported = reasoner.import_fhir(path)
    assert any(str(d).endswith("#ChronicPain") for d in imported.graph.objects(None, reasoner_gr("hasDiagnosis")))
    # decide reads a Bundle file itself; the lone Claim only through import-fhir
    result = reasoner.decide_file(path) if name.startswith("conformant") else reasoner.decide(imported.graph, name)
    decided = decisions_by_request(result)
    assert len(decided) == requests
    for record in decided.values():
        assert record["outcome"] == "no-applicable-guideline"
        assert [code.split(": ", 1)[1] for code in record["unmapped_codes"]] == \
            ["http://codesystem.x12.org/005010/1365|3 (Consultation)"]
    assert all("not mapped" in note for note in imported.notes) and imported.notes


@pytest.mark.skipif(not PAS.is_dir(), reason="../shared/fhir is not beside the checkout")
def test_the_nonconformant_pas_bundle_is_refused_in_one_line(tmp_path):
    done = run("decide", str(PAS / "nonconformant_pas_bundle_v110.json"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "the bundle asks for nothing" in done.stderr


def reasoner_gr(name: str):
    from reasoner.namespaces import GR

    return GR[name]


def test_an_unmapped_code_in_a_case_file_is_text(tmp_path):
    case = tmp_path / "case.ttl"
    case.write_text("""@prefix gr: <https://w3id.org/guideline-reasoner/ontology#> .
<#case> a gr:Case ; gr:hasRequest <#r> ; gr:unmappedCode 97530 .
<#r> a gr:TreatmentRequest ; gr:treatment gr:Treatment .
""")
    done = run("decide", str(case))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "gr:unmappedCode" in done.stderr


@pytest.mark.parametrize("name, change, named", [
    ("fractional quantity", {"quantityQuantity": {"value": 6.5}}, "ServiceRequest/sr: quantity 6.5 is not a whole number"),
    ("range quantity", {"quantityRange": {"low": {"value": 6}, "high": {"value": 8}}},
     "ServiceRequest/sr: a quantity given as a range or ratio"),
    ("two sides", {"bodySite": [{"coding": [{"system": SNOMED, "code": "37822005"}]},
                                {"coding": [{"system": SNOMED, "code": "7771000"}]},
                                {"coding": [{"system": SNOMED, "code": "24028007"}]}]},
     "ServiceRequest/sr: its body sites name more than one side (Left, Right)"),
])
def test_what_the_record_says_but_a_case_cannot_hold_leaves_the_request_uncovered(reasoner, tmp_path, name, change, named):
    decided = _decide(reasoner, tmp_path, _bundle(_service_request("97140", **change)))["request-1"]
    assert decided["outcome"] == "no-applicable-guideline"
    assert any(code.startswith(named) for code in decided["unmapped_codes"]), decided["unmapped_codes"]


def test_alternative_codings_need_one_mapped(reasoner, tmp_path):
    """The codings of one CodeableConcept say the same thing: a local code beside CPT 97140,
    or a local site code beside SNOMED CT's lumbar region, takes nothing away."""
    code = {"coding": [{"system": "urn:example:local", "code": "MT-1"}, {"system": CPT, "code": "97140"}]}
    site = {"coding": [{"system": "urn:example:local", "code": "LB"}, {"system": SNOMED, "code": "37822005"}]}
    request = {**_service_request("97140", bodySite=[site], quantityQuantity={"value": 6}), "code": code}
    decided = _decide(reasoner, tmp_path, _bundle(request))["request-1"]
    assert decided["outcome"] == "medically-necessary"
    assert "unmapped_codes" not in decided


def test_a_bundle_in_a_batch_is_an_error_record_saying_so(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "bundle.json").write_text((FIXTURES / "fhir" / "therapeutic-exercise-myalgia.json").read_text())
    done = run("decide", "--batch", str(folder))
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.splitlines()[0])
    assert "a FHIR Bundle, which --batch does not read" in record["error"]


def test_a_drug_already_taken_counts_its_weeks(reasoner, tmp_path):
    """Cyclobenzaprine is a 2-3 week course (CPMTG 2016): taken since 2024-01-04 (4 weeks by
    the request of 2024-02-01) plus 2 weeks asked is 6, over the limit of 3."""
    document = json.loads((FIXTURES / "fhir" / "mri-and-relaxant.json").read_text())
    document["entry"].append({"resource": {
        "resourceType": "MedicationStatement", "id": "taking", "status": "active", "subject": {"reference": "Patient/worker"},
        "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "21949"}]},
        "effectivePeriod": {"start": "2024-01-04"}}})
    decided = _decide(reasoner, tmp_path, document)["request-2"]
    assert decided["outcome"] == "not-medically-necessary"
    assert [(r["observed"], r["limit"], r["status"]) for r in decided["reasons"]
            if r["requirement"] == "within-duration-limit"] == [(6, 3, "not-met")]


def test_the_report_names_the_codes_it_could_not_read(tmp_path):
    out = tmp_path / "report.html"
    done = run("report", str(FIXTURES / "fhir" / "physical-therapy-knee-claim.json"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Claim/knee-pa item 2 code: {CPT}|97530 (Therapeutic activities)" in out.read_text()


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        yield from _paths(value, prefix + (key,))


def test_every_element_of_a_bundle_mutated_gives_a_case_or_an_input_error(reasoner, tmp_path):
    """Each element of the knee claim replaced by a wrong kind of value: the bundle imports
    to a checked case, or is an InputError (one line at the command line), never anything
    else; a request keeps no quantity that is not a whole number from 1 to 1000. (Deciding
    every mutant too, and eleven kinds of value over all three bundles, 4,862 mutants, found
    nothing either; too slow to run each time.)"""
    from rdflib import Literal

    from reasoner.errors import InputError
    from reasoner.namespaces import GR

    document = json.loads((FIXTURES / "fhir" / "physical-therapy-knee-claim.json").read_text())
    path = tmp_path / "bundle.json"
    for where in list(_paths(document))[1:]:
        for value in (None, "x", -1, 2.5, {}):
            mutated = copy.deepcopy(document)
            node = mutated
            for step in where[:-1]:
                node = node[step]
            node[where[-1]] = value
            path.write_text(json.dumps(mutated))
            try:
                graph = reasoner.load(path)
            except InputError:
                continue
            assert all(isinstance(q, Literal) and 1 <= q.toPython() <= 1000 for q in graph.objects(None, GR.quantity)), where


def test_a_response_follows_the_medication_statement_it_is_part_of(reasoner, tmp_path):
    """Without the Observation saying ibuprofen did not help, no first-line drug is known to
    have failed, and cyclobenzaprine, second line (CPMTG), is not supported."""
    document = json.loads((FIXTURES / "fhir" / "mri-and-relaxant.json").read_text())
    document["entry"] = [e for e in document["entry"] if e["resource"].get("id") != "ibuprofen-response"]
    decided = _decide(reasoner, tmp_path, document)["request-2"]
    assert [r["requirement"] for r in decided["reasons"] if r["status"] == "not-met"] == ["first-line-treatment-failed"]
