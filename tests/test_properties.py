"""Property-based tests (hypothesis): no input makes the case loader, the JSON-LD mapping
or the letter importer crash or hang; they accept it or raise their own clear error."""

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
