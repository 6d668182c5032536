"""A case states facts about itself only (reasoner/cases/seal.py): one that changes the
knowledge base, forges a decision or asserts what the pipeline derives is refused, with
the triple named, in a single run and in a batch; and in a batch it cannot change another
case's decision."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

SEED = ROOT / "examples" / "seed-case.ttl"
HEAD = """@prefix gr:  <https://w3id.org/guideline-reasoner/ontology#> .
@prefix kb:  <https://w3id.org/guideline-reasoner/kb#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix :    <https://example.org/sealed#> .
:case a gr:Case ; gr:hasDiagnosis gr:LumbarSprainStrain ; gr:hasRequest :pt .
:pt a gr:TreatmentRequest ; gr:treatment gr:PhysicalTherapy ; gr:quantity 30 ; gr:bodyPart gr:LowBack ;
    gr:requestDate "2017-01-10"^^xsd:date .
"""
ATTACKS = {
    "a-knowledge-base-limit": ("kb:CPMTG-PhysicalMedicine gr:maxVisits 100 .", "knowledge base's terms"),
    "a-region-moved": ("gr:LowBack gr:partOf gr:Knee .", "knowledge base's terms"),
    "a-treatment-relabelled": ('gr:PhysicalTherapy <http://www.w3.org/2000/01/rdf-schema#label> "anything" .',
                               "knowledge base's terms"),
    "a-forged-decision": ("<https://example.org/sealed#pt/decision> a gr:Decision ; gr:outcome gr:MedicallyNecessary .",
                          "decision"),
    "a-derived-fact": (":pt gr:priorVisits 0 .", "derived or decision property"),
    "a-forged-check": (":check a gr:WithinVisitLimitCheck .", "decision or requirement check"),
}


def run(*args):
    return subprocess.run([sys.executable, "-m", "reasoner", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_case_that_states_more_than_itself_is_refused(tmp_path, name):
    extra, why = ATTACKS[name]
    case = tmp_path / f"{name}.ttl"
    case.write_text(HEAD + extra + "\n")
    result = run("decide", case)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(case) in lines[0] and why in lines[0], lines


def test_in_a_batch_a_case_cannot_change_another_or_forge_its_own(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.ttl")
    for name, (extra, _) in ATTACKS.items():
        (folder / f"{name}.ttl").write_text(HEAD.replace("sealed#", f"sealed-{name}#") + extra + "\n")
    result = run("decide", "--batch", folder)
    assert result.returncode == 0, result.stderr
    records = {r["case"].rsplit("/", 1)[-1]: r for r in map(json.loads, result.stdout.splitlines())}
    for name, (_, why) in ATTACKS.items():
        assert why in records[f"{name}.ttl"].get("error", ""), records[f"{name}.ttl"]
    alone = run("decide", "--batch", SEED)
    seed_alone = json.loads(alone.stdout.splitlines()[0])
    assert records["seed.ttl"]["decisions"] == seed_alone["decisions"]


def test_a_case_cannot_state_facts_about_another_cases_nodes(tmp_path):
    """In a batch, case A giving case B's request a treatment episode would change B's
    decision: A's triples about a node its own case does not lead to are refused."""
    other = ("<https://example.org/sealed-other#case> gr:hasTreatmentEpisode :stolen .\n"
             ":stolen a gr:TreatmentEpisode ; gr:treatment gr:PhysicalTherapy ; gr:visits 40 .")
    case = tmp_path / "meddling.ttl"
    case.write_text(HEAD + other + "\n")
    result = run("decide", case)
    assert result.returncode == 2 and "nothing in the case leads to this node" in result.stderr, result.stderr
    batch = run("decide", "--batch", case)
    assert "nothing in the case leads to this node" in json.loads(batch.stdout.splitlines()[0])["error"]


LEAK_B = """@prefix gr:  <https://w3id.org/guideline-reasoner/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix :    <https://example.org/sealed-b#> .
:case a gr:Case ; gr:hasDiagnosis gr:LumbarSprainStrain ; gr:hasRequest :pt ; gr:hasTreatmentEpisode :pt-2016 .
:pt a gr:TreatmentRequest ; gr:treatment gr:PhysicalTherapy ; gr:quantity 2 ; gr:bodyPart gr:LowBack ;
    gr:requestDate "2017-01-10"^^xsd:date .
:pt-2016 a gr:TreatmentEpisode ; gr:treatment gr:PhysicalTherapy ; gr:visits 40 .
"""
LINK = ("<https://example.org/sealed#case> gr:hasTreatmentEpisode <https://example.org/sealed-b#pt-2016> .\n"
        "<https://example.org/sealed-b#pt-2016> gr:treatment gr:PhysicalTherapy .")
LEAKS = {
    # A links B's episode (giving it the treatment the input shapes ask of an episode): in
    # a shared store A counted B's 40 visits; alone it has an episode of unknown visits
    "names another case's episode": LINK,
    # the episode is reached from A's case, so the seal lets A state it: B's visits documented as improving
    "states facts about another case's episode": LINK + "\n<https://example.org/sealed-b#pt-2016> gr:functionalOutcome "
                                                 "gr:ObjectiveFunctionalImprovement .",
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_in_a_batch_no_case_sees_another_cases_nodes(tmp_path, reasoner, name):
    """A case naming another case's node (its episode, request, patient) would, in a shared
    chunk store, read that case's facts or add to them; each is decided as on its own."""
    from reasoner.pipeline.batch import decide_batch

    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.ttl").write_text(HEAD.replace("gr:quantity 30", "gr:quantity 6") + LEAKS[name] + "\n")
    (folder / "b.ttl").write_text(LEAK_B)
    together = {r["case"]: r["decisions"] for r in decide_batch([folder], reasoner.kb.closure_ntriples)}
    for case in sorted(folder.iterdir()):
        [alone] = decide_batch([case], reasoner.kb.closure_ntriples)
        assert "decisions" in alone, alone
        assert together[str(case)] == alone["decisions"], case.name


def _with_episode(name: str, visits: int) -> str:
    """A case whose earlier episode is a blank node labelled _:e, as a hand-written file has it."""
    return (LEAK_B.replace("sealed-b#", f"sealed-{name}#").replace(":pt-2016", "_:e")
            .replace("gr:visits 40", f"gr:visits {visits}"))


def test_in_a_batch_two_cases_using_one_blank_node_label_do_not_share_the_node(tmp_path, reasoner):
    """A blank node label is the file's own: two cases that both write _:e mean two episodes.
    In one chunk store they were one node, and case b counted a's 40 visits with its own 1."""
    from reasoner.pipeline.batch import decide_batch

    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.ttl").write_text(_with_episode("a", 40))
    (folder / "b.ttl").write_text(_with_episode("b", 1))
    together = {r["case"].rsplit("/", 1)[-1]: r["decisions"] for r in decide_batch([folder], reasoner.kb.closure_ntriples)}
    [limit] = [r for r in together["b.ttl"][0]["reasons"] if r["requirement"] == "within-visit-limit"]
    assert limit["observed"] == 1 + 2  # b's one visit before and the two requested
    for case in sorted(folder.iterdir()):
        [alone] = decide_batch([case], reasoner.kb.closure_ntriples)
        assert together[case.name] == alone["decisions"], case.name


UNREADABLE_NODES = {
    # the case's records and its decisions' provenance are named after its IRI
    "a-blank-case": (HEAD.replace(":case a gr:Case ; gr:hasDiagnosis", "[] a gr:Case ; gr:hasDiagnosis"),
                     "1 blank-node case(s)", "give the gr:Case an IRI"),
    # RDF 1.2: a triple as the object of a statement
    "a-triple-term": (HEAD + ":case gr:hasFinding <<( :a :b :c )>> .\n", "sealed#case gr:hasFinding",
                      "RDF 1.2 triple term"),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE_NODES))
def test_a_case_whose_nodes_the_pipeline_cannot_name_is_refused_in_one_line(tmp_path, name):
    """Both used to end in a traceback, and in a batch stopped the whole run."""
    text, field, why = UNREADABLE_NODES[name]
    case = tmp_path / f"{name}.ttl"
    case.write_text(text)
    result = run("decide", case)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(case) in line and field in line and why in line, line
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(case, folder / case.name)
    shutil.copy(SEED, folder / "seed.ttl")
    batch = run("decide", "--batch", folder)
    assert batch.returncode == 0, batch.stderr
    records = {r["case"].rsplit("/", 1)[-1]: r for r in map(json.loads, batch.stdout.splitlines())}
    assert why in records[case.name]["error"] and records["seed.ttl"]["decisions"]


def test_the_seal_in_python_finds_what_its_sparql_finds(reasoner):
    """The input check applies the seal as set tests over each case's triples
    (case_seal.breaches); breach_query states the same rules in SPARQL. Both give the same
    breaches on the examples, the bad-input corpus and seeded mutations of them that add
    triples about the case's own nodes, new nodes, knowledge-base terms, unknown names,
    derived and misplaced properties, or drop triples (so nodes become unreached)."""
    import random

    import pyoxigraph as ox

    from conftest import FIXTURES
    from reasoner.cases.seal import breach_query, breaches
    from reasoner.errors import InputError
    from reasoner.namespaces import GR_NS as GR, KB_NS as KB, RDF_TYPE
    from reasoner.pipeline import case_input

    seal = reasoner.check.seal
    cases = []
    for path in [SEED, *sorted((FIXTURES / "bad-input").rglob("*.ttl")), *sorted((FIXTURES / "decisions").glob("*.ttl"))]:
        try:
            cases.append(case_input.parse(path.read_bytes(), "turtle", str(path), path.as_uri()))
        except InputError:
            pass
    # the attacks above: each rule met by a case written for it, not only by chance among the mutants
    cases += [case_input.parse((HEAD + extra + "\n").encode(), "turtle", name, "https://example.org/")
              for name, (extra, _) in sorted(ATTACKS.items())]
    predicates = sorted({*seal.derived, *(p for p, _ in seal.allowed), GR.factSubject, GR.hasRequest, RDF_TYPE,
                         GR + "functionalOutcom", KB + "maxVisits", "http://www.w3.org/ns/prov#wasDerivedFrom",
                         "http://www.w3.org/2000/01/rdf-schema#label", "https://example.org/p"})
    objects = [ox.NamedNode(iri) for iri in (GR.Case, GR.TreatmentRequest, GR.TreatmentEpisode, GR.Patient, GR.TextSpan,
                                             GR.CaseFact, GR.Decision, GR.WithinVisitLimitCheck, GR.LowBack,
                                             GR + "Bogus", KB + "Bogus", "https://example.org/o")]
    objects += [ox.Literal("x"), ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))]
    rnd = random.Random(14)

    def mutated(triples):
        triples = list(triples)
        nodes = sorted({t.subject for t in triples} | {t.object for t in triples if not isinstance(t.object, ox.Literal)},
                       key=str)
        for _ in range(rnd.randint(1, 4)):
            if rnd.random() < 0.25:
                triples.pop(rnd.randrange(len(triples)))
                continue
            subject = rnd.choice(nodes + [ox.BlankNode(), ox.NamedNode("https://example.org/new"),
                                          ox.NamedNode(GR.LowBack), ox.NamedNode(KB + "CPMTG-PhysicalMedicine")])
            triples.append(ox.Triple(subject, ox.NamedNode(rnd.choice(predicates)),
                                     rnd.choice(nodes + objects + [ox.BlankNode()])))
        return triples

    query, graph = breach_query(seal), ox.NamedNode("urn:case")
    kinds = set()
    for triples in cases + [mutated(rnd.choice(cases)) for _ in range(400)]:
        store = ox.Store()
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
        expected = {((str(row["s"]), str(row["p"]), str(row["o"])), row["kind"].value) for row in store.query(query)}
        assert set(breaches(case_input.statements(triples), seal)) == expected, triples
        kinds |= {kind for _, kind in expected}
    assert kinds == {"term", "unreached", "derived", "type", "unknown", "misplaced"}  # every rule was met
