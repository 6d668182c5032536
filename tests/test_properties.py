"""Property-based tests (hypothesis): no input makes the case loader, the JSON-LD mapping
or the letter importer crash or hang; they accept it or raise their own clear error. And
the batch reader's N-Quads split agrees with the full parser on anything Oxigraph writes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.errors import InputError
from reasoner.letters.reading import LetterError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = ["type", "id", "treatment", "quantity", "bodyPart", "requests", "history", "visits", "outcome", "patient",
        "age", "sex", "injuryDate", "diagnoses", "@context", "@id", "@type", "label"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["Case", "TreatmentRequest", "PhysicalTherapy", "LowBack", "2013-12-24"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    max_leaves=25)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".ttl", ".json", ".jsonld", ".nt"]))
def test_case_loader_never_crashes_on_bytes(tmp_path_factory, reasoner, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"case{suffix}"
    path.write_bytes(data)
    try:
        reasoner.load(path)
    except InputError as exc:
        assert str(path) in str(exc)


@SETTINGS
@given(document=json_values)
def test_json_mapping_never_crashes(tmp_path_factory, reasoner, document):
    path = tmp_path_factory.mktemp("json") / "case.json"
    path.write_text(json.dumps(document))
    try:
        graph = reasoner.load(path)
    except InputError:
        return
    reasoner.decide(graph, str(path))  # a loadable case is decidable


@SETTINGS
@given(text=st.text(max_size=600), with_sections=st.booleans())
def test_letter_importer_never_crashes(tmp_path_factory, text, with_sections):
    from reasoner.letters.importer import import_letter

    if with_sections:
        text = f"CLINICAL CASE SUMMARY\n{text}\nIMR ISSUES, DECISIONS AND RATIONALES\n{text}: Upheld\n"
    path = tmp_path_factory.mktemp("letter") / "letter.txt"
    path.write_text(text)
    try:
        import_letter(path)
    except LetterError:
        pass


iris = st.sampled_from(["urn:a", "urn:b", "http://example.org/x#y", "https://w3id.org/p?q=1&r=%3C2%3E", "urn:é"])
literal_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def quads(draw):
    import pyoxigraph as ox

    subject = ox.NamedNode(draw(iris)) if draw(st.booleans()) else ox.BlankNode(f"b{draw(st.integers(0, 3))}")
    kind = draw(st.sampled_from(["iri", "plain", "lang", "typed", "blank"]))
    text = draw(literal_text)
    obj = {"iri": lambda: ox.NamedNode(draw(iris)), "plain": lambda: ox.Literal(text),
           "lang": lambda: ox.Literal(text, language=draw(st.sampled_from(["en", "fr-CA"]))),
           "typed": lambda: ox.Literal(text, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#token")),
           "blank": lambda: ox.BlankNode("o1")}[kind]()
    graph = draw(st.sampled_from([ox.DefaultGraph(), ox.NamedNode("urn:g1"), ox.NamedNode("urn:g2"), ox.BlankNode("g3")]))
    return ox.Quad(subject, ox.NamedNode(draw(iris)), obj, graph)


@SETTINGS
@given(statements=st.lists(quads(), min_size=1, max_size=12))
def test_nquads_split_by_pattern_agrees_with_the_parser(tmp_path_factory, statements):
    """The batch reader splits N-Quads by a line pattern; on anything Oxigraph writes
    (escaped quotes, backslashes, newlines, language tags, datatypes, blank nodes, the
    default graph, graphs split across the file) it must give the parser's cases."""
    import pyoxigraph as ox

    from reasoner.pipeline.batch import _nquads_cases

    path = tmp_path_factory.mktemp("nq") / "cases.nq"
    path.write_bytes(ox.serialize(statements, format=ox.RdfFormat.N_QUADS))

    def canonical(cases):
        return sorted((c.id, sorted(str(t) for t in ox.parse(c.data, format=ox.RdfFormat.N_TRIPLES))) for c in cases)

    whole: dict[str, list[str]] = {}  # the parser's reading of the whole file, by graph
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
        name = "DEFAULT" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name).strip("<>")
        whole.setdefault(name, []).append(str(ox.Triple(quad.subject, quad.predicate, quad.object)))
    cases = list(_nquads_cases(path))
    assert not [c.format for c in cases if isinstance(c.format, tuple)]  # no error records
    assert canonical(cases) == sorted((name, sorted(triples)) for name, triples in whole.items())
