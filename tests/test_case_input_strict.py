"""Case files people write: a misspelled key or name is an input error suggesting the right
one, and a property on a node the ontology does not say it of is an error too (never
silently ignored); findings, diagnoses, regions, lateralities and purposes work as
plain strings in JSON; a request or episode written without a type is validated by where it
sits, in a single run and in a batch; the published context holds every case property of the
ontology; `terms` lists the names with the ontology's labels."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rdflib import Graph, Namespace
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, XSD

from conftest import ROOT

GR = Namespace("https://w3id.org/guideline-reasoner/ontology#")


def run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "reasoner", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kwargs)


def json_case(request: dict | None = None, episode: dict | None = None, **case) -> dict:
    request = {"type": "TreatmentRequest", "treatment": "ChiropracticManipulation", "quantity": 6,
               "bodyPart": "LowBack", "requestDate": "2017-01-10"} if request is None else request
    document = {"type": "Case", "injuryDate": "2016-05-01", "diagnoses": ["LumbarDiscDisorder"], **case,
                "requests": [request]}
    if episode is not None:
        document["history"] = [episode]
    return document


TTL_HEAD = """@prefix gr:  <https://w3id.org/guideline-reasoner/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix :    <https://example.org/strict#> .
:case a gr:Case ; gr:hasDiagnosis gr:LumbarDiscDisorder ; gr:hasRequest :chiro ; gr:hasTreatmentEpisode :before .
"""
TTL_REQUEST = ":chiro a gr:TreatmentRequest ; gr:treatment gr:ChiropracticManipulation ; gr:quantity 6 ; gr:bodyPart gr:LowBack .\n"
TTL_EPISODE = ":before a gr:TreatmentEpisode ; gr:treatment gr:ChiropracticManipulation ; gr:visits 6 .\n"
EPISODE = {"type": "TreatmentEpisode", "treatment": "ChiropracticManipulation", "visits": 6}
REQUEST = json_case()["requests"][0]

# name -> (file name, text, fragments the one error line must hold)
MISTAKES = {
    "json-key-outcom": ("case.json", json_case(episode={**EPISODE, "outcom": "ObjectiveFunctionalImprovement"}),
                        ['history[0].outcom', 'unknown key "outcom" (did you mean "outcome"?)']),
    "json-key-quantitty": ("case.json", json_case({**{k: v for k, v in REQUEST.items() if k != "quantity"}, "quantitty": 6}),
                           ['requests[0].quantitty', 'unknown key "quantitty" (did you mean "quantity"?)']),
    "json-key-no-match": ("case.json", json_case(zzzz=1),
                          ['zzzz', 'unknown key "zzzz"', "guideline-reasoner terms --kind property"]),
    "jsonld-compact-key": ("case.jsonld", json_case({**REQUEST, "gr:frequencyPerWek": 2}),
                           ["gr:frequencyPerWek", "the ontology defines no property gr:frequencyPerWek "
                                                  "(did you mean gr:frequencyPerWeek?)"]),
    "turtle-functionalOutcom": ("case.ttl", TTL_HEAD + TTL_REQUEST +
                                ":before a gr:TreatmentEpisode ; gr:treatment gr:ChiropracticManipulation ; "
                                "gr:visits 6 ; gr:functionalOutcom gr:ObjectiveFunctionalImprovement .\n",
                                ["gr:functionalOutcom", "(did you mean gr:functionalOutcome?)"]),
    "turtle-type-misspelled": ("case.ttl", TTL_HEAD + TTL_REQUEST +
                               ":before a gr:TreatmentEpisod ; gr:treatment gr:ChiropracticManipulation ; gr:visits 6 .\n",
                               ["gr:TreatmentEpisod", "(did you mean gr:TreatmentEpisode?)"]),
    "json-right-knee": ("case.json", json_case({**REQUEST, "treatment": "PhysicalTherapy", "bodyPart": "RightKnee"}),
                        ["gr:bodyPart", "unknown body region gr:RightKnee",
                         "did you mean gr:Knee with laterality gr:Right?"]),
    "json-treatment-misspelled": ("case.json", json_case({**REQUEST, "treatment": "ChiropracticManipulaton"}),
                                  ["gr:treatment", "(did you mean gr:ChiropracticManipulation?)"]),
    "json-finding-misspelled": ("case.json", json_case(hasFinding=["NeurologicalDefecit"]),
                                ["gr:hasFinding", "unknown finding gr:NeurologicalDefecit",
                                 "(did you mean gr:NeurologicalDeficit?)"]),
    "json-laterality-unknown": ("case.json", json_case({**REQUEST, "laterality": "Rigth"}),
                                ["gr:laterality", "a laterality must be gr:Left, gr:Right or gr:Bilateral"]),
    "json-keyword-misspelled": ("case.jsonld", json_case({**REQUEST, "@typ": "TreatmentRequest"}),
                                ['requests[0].@typ', 'unknown keyword "@typ" (did you mean "@type"?)']),
    "json-visits-on-request": ("case.json", json_case({**REQUEST, "visits": 3}),
                               ["gr:visits", "gr:visits is said of a gr:TreatmentEpisode, not of this node"]),
    "turtle-finding-on-episode": ("case.ttl", TTL_HEAD + TTL_REQUEST + TTL_EPISODE + ":before gr:hasFinding gr:RedFlag .\n",
                                  ["gr:hasFinding", "gr:hasFinding is said of a gr:Case, not of this node"]),
    "json-key-twice": ("case.json", '{"type": "Case", "requests": [{"type": "TreatmentRequest", '
                       '"treatment": "PhysicalTherapy", "quantity": 6, "bodyPart": "Knee", "quantity": 60}]}',
                       ['key "quantity" given twice']),
    "turtle-kb-predicate": ("case.ttl", TTL_HEAD.replace("@prefix :", "@prefix kb: <https://w3id.org/guideline-reasoner/kb#> .\n@prefix :")
                            + TTL_EPISODE + ":chiro a gr:TreatmentRequest ; gr:treatment gr:ChiropracticManipulation ; "
                            "gr:bodyPart gr:LowBack ; kb:quantity 6 .\n",
                            ["kb:quantity", "the ontology defines no property kb:quantity (did you mean gr:quantity?)"]),
    "json-finding-as-text": ("case.jsonld", json_case(**{"gr:hasFinding": ["NeurologicalDeficit"]}),
                             ["gr:hasFinding", "a finding must be the IRI of a clinical finding"]),
}


def write(tmp_path, name):
    file_name, content, _ = MISTAKES[name]
    path = tmp_path / file_name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_misspelled_key_or_name_is_refused_with_the_right_one(tmp_path, name):
    path = write(tmp_path, name)
    out = tmp_path / "out.json"
    result = run("decide", path, "--format", "json", "-o", out)
    assert result.returncode == 2 and result.stdout == "" and not out.exists(), result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(path) in lines[0]
    for fragment in MISTAKES[name][2]:
        assert fragment in lines[0], (fragment, lines[0])


def test_in_a_batch_each_mistake_is_that_cases_error_with_the_suggestion(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in MISTAKES:
        (folder / name).mkdir()
        write(folder / name, name)
    good = folder / "good.json"
    good.write_text(json.dumps(json_case()))
    result = run("decide", "--batch", folder)
    assert result.returncode == 0, result.stderr
    records = {r["case"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records[str(good)]["decisions"], records[str(good)]
    for name, (file_name, _, fragments) in MISTAKES.items():
        error = records[str(folder / name / file_name)].get("error", "")
        assert fragments[-1] in error, (name, error)


# Plain strings in JSON and the {"id": ...} form must give the same graph.
PLAIN = json_case({**REQUEST, "treatment": "PhysicalTherapy", "bodyPart": "Knee", "laterality": "Right",
                   "carePurpose": "FlareUpCare"},
                  {**EPISODE, "treatment": "PhysicalTherapy", "outcome": "TemporaryReliefOnly", "response": "Effective"},
                  diagnoses=["KneeOsteoarthritis"], hasFinding=["NeurologicalDeficit", "RedFlag"],
                  failedConservativeCareWeeks=8)


def _with_ids(document):
    """The same case with every name written {"id": "gr:NAME"}."""
    names = {"treatment", "bodyPart", "laterality", "carePurpose", "outcome", "response", "diagnoses", "hasFinding"}
    if isinstance(document, list):
        return [_with_ids(item) for item in document]
    if not isinstance(document, dict):
        return document
    return {key: ([{"id": f"gr:{v}"} for v in value] if isinstance(value, list) else {"id": f"gr:{value}"})
            if key in names else _with_ids(value) for key, value in document.items()}


def test_plain_strings_give_the_graph_of_the_id_form(tmp_path):
    from reasoner.cases.loader import read_case

    plain, ids = tmp_path / "case.json", tmp_path / "ids" / "case.json"
    ids.parent.mkdir()
    plain.write_text(json.dumps(PLAIN))
    ids.write_text(json.dumps(_with_ids(PLAIN)))
    graph = read_case(plain)
    assert isomorphic(graph, read_case(ids))
    case = next(graph.subjects(RDF.type, GR.Case))
    assert set(graph.objects(case, GR.hasFinding)) == {GR.NeurologicalDeficit, GR.RedFlag}
    request = next(graph.objects(case, GR.hasRequest))
    assert graph.value(request, GR.laterality) == GR.Right and graph.value(request, GR.carePurpose) == GR.FlareUpCare
    assert run("decide", plain).returncode == 0


def test_ontology_names_as_keys_work_like_the_short_keys(tmp_path):
    from reasoner.cases.loader import read_case

    short = json_case(episode=EPISODE)
    long = {("hasDiagnosis" if k == "diagnoses" else "hasRequest" if k == "requests"
             else "hasTreatmentEpisode" if k == "history" else k): v for k, v in short.items()}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "case.json").write_text(json.dumps(short))
    (tmp_path / "b" / "case.json").write_text(json.dumps(long))
    assert isomorphic(read_case(tmp_path / "a" / "case.json"), read_case(tmp_path / "b" / "case.json"))


# A node without a type, by its place in the case: each must be refused, single and batch.
UNTYPED = {
    "episode-negative-visits": (json_case({**REQUEST, "quantity": 18}, {"treatment": "ChiropracticManipulation", "visits": -24}),
                                "visits must be one whole number from 0 to 1000"),
    "request-negative-quantity": (json_case({k: v for k, v in REQUEST.items() if k != "type"} | {"quantity": -5}),
                                  "quantity must be one whole number from 1 to 1000"),
    "request-zero-quantity": (json_case({k: v for k, v in REQUEST.items() if k != "type"} | {"quantity": 0}),
                              "quantity must be one whole number from 1 to 1000"),
    "request-text-quantity": (json_case({k: v for k, v in REQUEST.items() if k != "type"} | {"quantity": "abc"}),
                              "quantity must be one whole number from 1 to 1000"),
    "episode-negative-weeks": (json_case(episode={"treatment": "ChiropracticManipulation", "visits": 2, "durationWeeks": -3}),
                               "weeks must be one whole number from 0 to 520"),
    "turtle-untyped-episode": (TTL_HEAD + TTL_REQUEST + ":before gr:treatment gr:ChiropracticManipulation ; gr:visits -24 .\n",
                               "visits must be one whole number from 0 to 1000"),
    "turtle-untyped-request": (TTL_HEAD + TTL_EPISODE + ":chiro gr:treatment gr:ChiropracticManipulation ; gr:quantity 0 .\n",
                               "quantity must be one whole number from 1 to 1000"),
    "turtle-untyped-blank-request": (TTL_HEAD.replace(":chiro ;", "[ gr:treatment gr:ChiropracticManipulation ; gr:quantity 6 ] ;")
                                     + TTL_EPISODE, "give every gr:TreatmentRequest an IRI"),
}


def _untyped_file(folder, name):
    content, _ = UNTYPED[name]
    path = folder / (f"{name}.ttl" if isinstance(content, str) else f"{name}.json")
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("name", sorted(UNTYPED))
def test_an_untyped_node_is_validated_by_its_place(tmp_path, name):
    path = _untyped_file(tmp_path, name)
    result = run("decide", path)
    assert result.returncode == 2 and result.stdout == "", result.stdout
    assert UNTYPED[name][1] in result.stderr and str(path) in result.stderr, result.stderr


def test_an_untyped_node_is_validated_by_its_place_in_a_batch(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    paths = {name: _untyped_file(folder, name) for name in UNTYPED}
    lines = tmp_path / "cases.jsonl"
    lines.write_text("".join(json.dumps(content) + "\n" for content, _ in UNTYPED.values() if not isinstance(content, str)))
    result = run("decide", "--batch", folder, lines)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_case = {r["case"]: r for r in records}
    for name, path in paths.items():
        assert UNTYPED[name][1] in by_case[str(path)].get("error", ""), by_case[str(path)]
    from_lines = [r for r in records if r["case"].startswith(str(lines))]
    assert from_lines and all("error" in r for r in from_lines), from_lines


def test_every_case_property_of_the_ontology_is_in_the_context():
    """The case vocabulary (properties whose domain is a case class or a class above one,
    less the derived ones) read from the ontology file itself, against the published context."""
    ontology = Graph().parse(ROOT / "ontology" / "guideline-reasoner.ttl")
    case_classes = {GR.Case, GR.Patient, GR.TreatmentEpisode, GR.TreatmentRequest, GR.TextSpan, GR.CaseFact}
    above = {c for case_class in case_classes for c in ontology.transitive_objects(case_class, RDFS.subClassOf)}
    properties = set()
    for prop, domain in ontology.subject_objects(RDFS.domain):
        definition = str(ontology.value(prop, Namespace("http://www.w3.org/2004/02/skos/core#").definition))
        if domain in above and not definition.startswith("Derived"):
            properties.add(prop)
    assert {GR.hasFinding, GR.laterality, GR.failedConservativeCareWeeks, GR.carePurpose, GR.treatment} <= properties
    context = json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
    by_iri = {}
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        iri = definition if isinstance(definition, str) else definition.get("@id", "")
        by_iri.setdefault(iri.replace("gr:", str(GR), 1), []).append(definition)
    missing = sorted(str(p) for p in properties if str(p) not in by_iri)
    assert missing == []
    for prop in properties:
        for definition in by_iri[str(prop)]:
            coerced = definition.get("@type") if isinstance(definition, dict) else None
            if (prop, RDF.type, OWL.ObjectProperty) in ontology:
                assert coerced in ("@vocab", "@id"), prop   # a plain string names a term, never text
            elif ontology.value(prop, RDFS.range) == XSD.integer:
                assert coerced == "xsd:integer", prop
            elif str(prop).endswith("Date"):
                assert coerced == "xsd:date", prop


def test_terms_lists_names_with_the_ontology_labels():
    taxonomy = Graph().parse(ROOT / "ontology" / "taxonomy.ttl")
    knee_regions = {str(r) for r in taxonomy.subjects(RDF.type, GR.BodyRegion)
                    if "knee" in str(r).lower() or "knee" in str(taxonomy.value(r, RDFS.label)).lower()}
    assert str(GR.Knee) in knee_regions
    result = run("terms", "--kind", "region", "KNEE", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["terms"]
    assert {t["iri"] for t in listed} == knee_regions
    for term in listed:
        assert term["kind"] == "region"
        assert term["label"] == str(taxonomy.value(GR[term["name"]], RDFS.label))
        assert term["definition"] == str(taxonomy.value(GR[term["name"]], Namespace("http://www.w3.org/2004/02/skos/core#").definition))
    text = run("terms", "--kind", "region", "knee").stdout
    assert "  Knee - knee\n" in text
    ontology = Graph().parse(ROOT / "ontology" / "guideline-reasoner.ttl")
    properties = {t["name"]: t for t in json.loads(run("terms", "--kind", "property", "--format", "json").stdout)["terms"]}
    for name in ("hasFinding", "laterality", "failedConservativeCareWeeks", "carePurpose"):
        assert properties[name]["label"] == str(ontology.value(GR[name], RDFS.label)), name
    assert properties["functionalOutcome"]["json_keys"] == ["functionalOutcome", "outcome"]
    assert "priorVisits" not in properties   # derived: a case may not state it
    lateralities = json.loads(run("terms", "--kind", "laterality", "--format", "json").stdout)["terms"]
    assert {t["name"] for t in lateralities} == {"Left", "Right", "Bilateral"}
    assert "WORD" in run("terms", "--help").stdout


def test_a_json_ld_case_in_a_named_graph_reads_as_its_triples(reasoner):
    """JSON-LD can put a case's statements in a named graph (`@id` beside `@graph`): the
    check and the input hash read the triples alone, the graph aside, as for the same case
    in Turtle (case_input.statements takes each quad's triple)."""
    from reasoner.pipeline import case_input
    from reasoner.pipeline.run import CaseInput

    turtle = (ROOT / "examples" / "seed-case.ttl").read_bytes()
    triples = case_input.parse(turtle, "turtle", "seed.ttl", "https://example.org/seed")
    document = json.dumps({"@id": "https://example.org/graph", "@graph": json.loads(
        Graph().parse(data=turtle, format="turtle", publicID="https://example.org/seed").serialize(format="json-ld"))})
    named = case_input.parse(document, "json", "seed.jsonld", "https://example.org/seed")
    assert {str(q.graph_name) for q in named} == {"<https://example.org/graph>"}
    reasoner.check.one(named, "seed.jsonld")  # the seed case is valid: no problem found
    assert CaseInput.of(named).digest == CaseInput.of(triples).digest
    assert sorted(case_input.statements(named)) == sorted(case_input.statements(triples))
