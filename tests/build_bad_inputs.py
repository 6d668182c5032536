"""Write the generated part of the bad-input corpus (tests/fixtures/bad-input/generated/):
each file is the seed case with one thing broken, beside the fragments its one-line error
must contain (expected.json). Run: python tests/build_bad_inputs.py"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures" / "bad-input" / "generated"
SEED = (HERE.parent / "examples" / "seed-case.ttl").read_text()

QUANTITY = "gr:quantity 8 ;\n    gr:requestDate \"2013-12-24\"^^xsd:date .\n\n:physical-therapy-x8"
VISITS = "gr:visits 8 ;\n    gr:startDate \"2013-07-01\"^^xsd:date ; gr:endDate \"2013-12-24\"^^xsd:date ;\n    gr:functionalOutcome gr:TemporaryReliefOnly .\n\n:physical-therapy-2013"


def swap(old: str, new: str) -> str:
    assert old in SEED, old
    return SEED.replace(old, new, 1)


def cases() -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    quantity_msg = ["quantity must be one whole number from 1 to 1000", "gr:quantity"]
    for n, value in enumerate(['"eight"^^xsd:integer', "-1", "0", "1001", "99999999", '"8"', "8.5", '"8"^^xsd:string',
                               "true", "<https://example.org/eight>", '"2013-12-24"^^xsd:date', "8 , 9"]):
        out[f"quantity-{n:02d}.ttl"] = (swap(QUANTITY, QUANTITY.replace("gr:quantity 8", f"gr:quantity {value}")),
                                        quantity_msg if value != "8 , 9" else ["quantity", "gr:quantity"])
    visits_msg = ["visits must be one whole number from 0 to 1000", "gr:visits"]
    for n, value in enumerate(['"eight"^^xsd:integer', "-3", "1001", "2.5", '"8"', "false", "8 , 9"]):
        out[f"visits-{n:02d}.ttl"] = (swap(VISITS, VISITS.replace("gr:visits 8", f"gr:visits {value}")), visits_msg)
    for n, value in enumerate(['"five"^^xsd:integer', "5", "150", "-40", '"51"', "51.5"]):
        out[f"age-{n:02d}.ttl"] = (swap("gr:age 51", f"gr:age {value}"), ["age must be one whole number of years", "gr:age"])
    for n, value in enumerate(['"M"', '"man"', '"Male"', "gr:Male", '"m" , "f"']):
        out[f"sex-{n:02d}.ttl"] = (swap('gr:sex "male"', f"gr:sex {value}"), ["sex must be", "gr:sex"])
    for n, value in enumerate(['"December 11, 2000"', '"2000-12-11"', '"2000-12-11"^^xsd:string', '"11/12/2000"^^xsd:date',
                               '"2000-12-11"^^xsd:dateTime', '"2000-12-11"^^xsd:date , "2001-01-01"^^xsd:date', "2000"]):
        out[f"injury-date-{n:02d}.ttl"] = (swap('gr:injuryDate "2000-12-11"^^xsd:date', f"gr:injuryDate {value}"),
                                           ["injury date must be one xsd:date", "gr:injuryDate"])
    for n, value in enumerate(['"2013-12-24"', '"24/12/2013"^^xsd:date', '"soon"^^xsd:date', "20131224"]):
        out[f"request-date-{n:02d}.ttl"] = (swap('gr:quantity 8 ;\n    gr:requestDate "2013-12-24"^^xsd:date',
                                                 f'gr:quantity 8 ;\n    gr:requestDate {value}'),
                                            ["request date must be one xsd:date", "gr:requestDate"])
    for n, value in enumerate(["gr:Chiropractic", "gr:Yoga", "<https://example.org/treatment>", "gr:LumbarSpine"]):
        out[f"unknown-treatment-{n:02d}.ttl"] = (swap("gr:treatment gr:ChiropracticManipulation ;\n    gr:quantity 8",
                                                      f"gr:treatment {value} ;\n    gr:quantity 8"),
                                                 ["unknown treatment", "gr:treatment"])
    for n, value in enumerate(['"Chiropractic"', "gr:ChiropracticManipulation , gr:PhysicalTherapy"]):
        out[f"treatment-shape-{n:02d}.ttl"] = (swap("gr:treatment gr:ChiropracticManipulation ;\n    gr:quantity 8",
                                                    f"gr:treatment {value} ;\n    gr:quantity 8"),
                                               ["must name exactly one treatment", "gr:treatment"])
    for n, value in enumerate(["gr:Lumbar", "gr:ChiropracticManipulation", "<https://example.org/back>"]):
        out[f"unknown-body-part-{n:02d}.ttl"] = (swap("gr:quantity 8 ;\n    gr:requestDate",
                                                      f"gr:quantity 8 ; gr:bodyPart {value} ;\n    gr:requestDate"),
                                                 ["unknown body region", "gr:bodyPart"])
    out["body-part-literal.ttl"] = (swap("gr:quantity 8 ;\n    gr:requestDate", 'gr:quantity 8 ; gr:bodyPart "lumbar" ;\n    gr:requestDate'),
                                    ["body part must be an IRI", "gr:bodyPart"])
    for n, value in enumerate(["gr:Backache", "gr:LowBack", "<https://example.org/dx>"]):
        out[f"unknown-diagnosis-{n:02d}.ttl"] = (swap("gr:hasDiagnosis gr:ThoracicDiscDisorder", f"gr:hasDiagnosis {value}"),
                                                 ["unknown condition", "gr:hasDiagnosis"])
    for n, value in enumerate(["gr:Improved", '"temporary relief"', "gr:ObjectiveFunctionalImprovement , gr:TemporaryReliefOnly"]):
        out[f"outcome-{n:02d}.ttl"] = (swap(VISITS, VISITS.replace("gr:functionalOutcome gr:TemporaryReliefOnly",
                                                                   f"gr:functionalOutcome {value}")),
                                       ["functional outcome must be", "gr:functionalOutcome"])
    out["care-purpose.ttl"] = (swap("gr:quantity 8 ;\n    gr:requestDate", "gr:quantity 8 ; gr:carePurpose gr:Forever ;\n    gr:requestDate"),
                               ["care purpose must be", "gr:carePurpose"])
    out["two-patients.ttl"] = (swap("gr:hasPatient :patient ;", "gr:hasPatient :patient , :other ;") + "\n:other a gr:Patient .\n",
                               ["more than one patient", "gr:hasPatient"])
    out["no-requests.ttl"] = (SEED.replace("    gr:hasRequest :chiropractic-x8 , :physical-therapy-x8 , :massage-x2 .", "    .")
                              .replace(":inversion-table ;\n    .", ":inversion-table .")
                              .replace("a gr:TreatmentRequest", "a gr:Thing"), ["no treatment request", "gr:hasRequest"])
    out["orphan-request.ttl"] = (SEED + "\n:orphan a gr:TreatmentRequest ; gr:treatment gr:PhysicalTherapy ; gr:quantity 2 .\n",
                                 ["not listed by exactly one case", "^gr:hasRequest"])
    out["shared-request.ttl"] = (SEED + "\n:second a gr:Case ; gr:hasRequest :massage-x2 .\n",
                                 ["not listed by exactly one case", "^gr:hasRequest"])
    out["blank-request.ttl"] = (SEED + "\n:case gr:hasRequest [ a gr:TreatmentRequest ; gr:treatment gr:PhysicalTherapy ; gr:quantity 2 ] .\n",
                                ["give every gr:TreatmentRequest an IRI"])
    out["no-case.ttl"] = (SEED.replace(":case a gr:Case ;", ":case a gr:Thing ;"), ["no gr:Case"])
    out["blank-case.ttl"] = (SEED.replace(":case a gr:Case ;", "[] a gr:Case ;", 1), ["give the gr:Case an IRI"])
    out["triple-term.ttl"] = (SEED + "\n:case gr:hasFinding <<( :case gr:hasFinding gr:MuscleSpasm )>> .\n",
                              ["RDF 1.2 triple term", "gr:hasFinding"])
    out["truncated-00.ttl"] = (SEED[:200], ["no RDF statements"])  # only the comment header survives
    for n, anchor in enumerate((":patient a gr:Patient", ":massage-2013 a", ":physical-therapy-x8 a", ":massage-x2 a"), start=1):
        out[f"truncated-{n:02d}.ttl"] = (SEED[: SEED.index(anchor) + len(anchor) + 3], ["not valid Turtle"])
    out["prefix-missing.ttl"] = (SEED.replace("@prefix gr:   <https://w3id.org/guideline-reasoner/ontology#> .\n", ""), ["not valid Turtle"])
    out["html.ttl"] = ("<!doctype html><html><body>not a case</body></html>\n", ["not valid Turtle"])
    out["csv.ttl"] = ("case,treatment,quantity\nseed,chiropractic,8\n", ["not valid Turtle"])
    out["whitespace.ttl"] = ("   \n\t\n  \n", ["file is empty"])
    out["comment-only.ttl"] = ("# nothing but a comment\n", ["no RDF statements"])
    # evidence as an imported letter writes it (tests/test_letter_evidence.py), with one thing broken
    evidence = {"span": ':span-1 a gr:TextSpan ; gr:quote "Findings suggest radiculopathy." ; gr:startOffset 10 ; gr:endOffset 41 .',
                "fact": (":fact-1 a gr:CaseFact ; gr:factSubject :case ; gr:factPredicate gr:hasFinding ;\n"
                         "    gr:factObject gr:RadiculopathyOnExamination ; <http://www.w3.org/ns/prov#wasDerivedFrom> :span-1 .")}
    with_evidence = SEED + "\n:case gr:hasFinding gr:RadiculopathyOnExamination .\n" + evidence["span"] + "\n" + evidence["fact"] + "\n"
    quote_msg = ["quote its words as exactly one string", "gr:quote"]
    broken_evidence = {
        "quote-missing": ('gr:quote "Findings suggest radiculopathy." ; ', "", quote_msg),
        "quote-twice": ('"Findings suggest radiculopathy."', '"Findings suggest" , "radiculopathy."', quote_msg),
        "quote-number": ('"Findings suggest radiculopathy."', "42", quote_msg),
        "quote-iri": ('"Findings suggest radiculopathy."', ":radiculopathy", quote_msg),
        "start-negative": ("gr:startOffset 10", "gr:startOffset -1", ["start offset must be one whole number", "gr:startOffset"]),
        "start-text": ("gr:startOffset 10", 'gr:startOffset "ten"', ["start offset must be one whole number", "gr:startOffset"]),
        "start-decimal": ("gr:startOffset 10", "gr:startOffset 10.5", ["start offset must be one whole number", "gr:startOffset"]),
        "end-huge": ("gr:endOffset 41", "gr:endOffset 99999999999999999999", ["end offset must be one whole number", "gr:endOffset"]),
        "end-twice": ("gr:endOffset 41", "gr:endOffset 41 , 42", ["end offset must be one whole number", "gr:endOffset"]),
        "end-before-start": ("gr:startOffset 10 ; gr:endOffset 41", "gr:startOffset 41 ; gr:endOffset 10",
                             ["start offset must not be after the end offset", "gr:startOffset"]),
        "fact-no-subject": ("gr:factSubject :case ; ", "", ["must name exactly one subject", "gr:factSubject"]),
        "fact-two-values": ("gr:factObject gr:RadiculopathyOnExamination", "gr:factObject gr:RadiculopathyOnExamination , gr:RedFlag",
                            ["must name exactly one value", "gr:factObject"]),
        "fact-property-text": ("gr:factPredicate gr:hasFinding", 'gr:factPredicate "has finding"',
                               ["must name exactly one property IRI", "gr:factPredicate"]),
        "fact-no-span": (" ; <http://www.w3.org/ns/prov#wasDerivedFrom> :span-1 .", " .",
                         ["derived from at least one text span", "prov#wasDerivedFrom"]),
    }
    for name, (old, new, expected) in broken_evidence.items():
        assert old in with_evidence, old
        out[f"evidence-{name}.ttl"] = (with_evidence.replace(old, new, 1), expected)
    json_cases = {
        "json-quantity-string.json": ({"type": "Case", "requests": [{"type": "TreatmentRequest", "treatment": "PhysicalTherapy",
                                                                    "quantity": "many"}]}, quantity_msg),
        "json-quantity-negative.json": ({"type": "Case", "requests": [{"type": "TreatmentRequest", "treatment": "PhysicalTherapy",
                                                                      "quantity": -2}]}, quantity_msg),
        "json-unknown-treatment.json": ({"type": "Case", "requests": [{"type": "TreatmentRequest", "treatment": "Yoga",
                                                                      "quantity": 2}]}, ["unknown treatment", "gr:treatment"]),
        "json-no-requests.json": ({"type": "Case", "requests": []}, ["no treatment request"]),
        "json-no-type.json": ({"requests": [{"treatment": "PhysicalTherapy", "quantity": 2}]}, ["no gr:Case"]),
        "json-age-text.json": ({"type": "Case", "patient": {"type": "Patient", "age": "fifty"},
                                "requests": [{"type": "TreatmentRequest", "treatment": "PhysicalTherapy", "quantity": 2}]},
                               ["age must be one whole number", "gr:age"]),
        "json-date.json": ({"type": "Case", "injuryDate": "last spring",
                            "requests": [{"type": "TreatmentRequest", "treatment": "PhysicalTherapy", "quantity": 2}]},
                           ["injury date must be one xsd:date", "gr:injuryDate"]),
        "json-visits.json": ({"type": "Case", "history": [{"type": "TreatmentEpisode", "treatment": "PhysicalTherapy", "visits": "8x"}],
                              "requests": [{"type": "TreatmentRequest", "treatment": "PhysicalTherapy", "quantity": 2}]},
                             ["visits must be one whole number", "gr:visits"]),
        "json-string.json": ("just a string", ["must be a JSON object"]),
        "json-number.json": (42, ["must be a JSON object"]),
        "json-null.json": (None, ["must be a JSON object"]),
    }
    for name, (document, expected) in json_cases.items():
        out[name] = (json.dumps(document) + "\n", expected)
    # numbers past any count: too long to convert (a traceback once), past the store's 64-bit
    # integers (a duration of 10^20 weeks was no observation, so "met"), negative weeks
    # (-50 made a renewal fit a 3-week course)
    huge = "1" * 5000
    out["quantity-huge.ttl"] = (swap(QUANTITY, QUANTITY.replace("gr:quantity 8", f"gr:quantity {huge}")),
                                ["a number of 5000 digits", "line 51"])
    out["quantity-huge-typed.ttl"] = (swap(QUANTITY, QUANTITY.replace("gr:quantity 8", f'gr:quantity "{huge}"^^xsd:integer')),
                                      quantity_msg)
    request_numbers = {
        "weeks-requested-negative": ("gr:durationWeeks -50", ["weeks requested must be one whole number from 1 to 520", "gr:durationWeeks"]),
        "weeks-requested-huge": ("gr:durationWeeks 100000000000000000000", ["weeks requested must be", "gr:durationWeeks"]),
        "weeks-requested-text": ('gr:durationWeeks "abc"^^xsd:integer', ["weeks requested must be", "gr:durationWeeks"]),
        "per-week-zero": ("gr:frequencyPerWeek 0", ["frequency per week must be one whole number", "gr:frequencyPerWeek"]),
        "per-week-huge": ("gr:frequencyPerWeek 9999", ["frequency per week must be", "gr:frequencyPerWeek"]),
        "item-number-negative": ("gr:itemNumber -1", ["item number must be one whole number", "gr:itemNumber"]),
    }
    for name, (statement, expected) in request_numbers.items():
        out[f"{name}.ttl"] = (swap(QUANTITY, QUANTITY.replace("gr:quantity 8", f"gr:quantity 8 ; {statement}")), expected)
    out["weeks-used-negative.ttl"] = (swap(VISITS, VISITS.replace("gr:visits 8", "gr:visits 8 ; gr:durationWeeks -50")),
                                      ["episode's weeks must be one whole number", "gr:durationWeeks"])
    for n, value in enumerate(["-5", "1000000000000000000000000000000", "2.5"]):
        out[f"failed-care-weeks-{n:02d}.ttl"] = (swap("gr:injuryDate", f"gr:failedConservativeCareWeeks {value} ;\n    gr:injuryDate"),
                                                 ["failed conservative care weeks must be", "gr:failedConservativeCareWeeks"])
    plain = '{"type": "Case", "requests": [{"type": "TreatmentRequest", "treatment": "PhysicalTherapy", "quantity": %s}]}\n'
    out["json-quantity-huge.json"] = (plain % huge, ["a number of 5000 digits", "requests[0].quantity"])
    out["json-quantity-past-64-bits.json"] = (plain % ("9" * 25), ["a number of 25 digits", "requests[0].quantity"])
    out["json-deep.json"] = ("[" * 100000 + "]" * 100000 + "\n", ["JSON"])
    out["json-trailing-comma.json"] = ('{"type": "Case",}\n', ["not valid JSON", "line 1"])
    out["json-single-quotes.json"] = ("{'type': 'Case'}\n", ["not valid JSON", "line 1"])
    out["jsonld-bad-context.jsonld"] = (json.dumps({"@context": {"@vocab": 42}, "type": "Case"}) + "\n", ["JSON-LD"])
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (content, fragments) in cases().items():
        (OUT / name).write_text(content)
        expected[name] = fragments
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"{len(expected)} bad inputs written to {OUT}")


if __name__ == "__main__":
    main()
