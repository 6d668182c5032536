"""Treatment history read by kind of sentence, each kind in several phrasings (written
here, not copied from letters): counts after a history verb or in a list of care given,
in parentheses or in records reviewed; nothing counted inside a clause about the request
under review ("the request for authorization, received on ..."), while a history clause
after it ("... denied the request as the patient has had 8 sessions") still counts."""

from __future__ import annotations

import pytest

from reasoner.letters.summary import read_summary


def history(text: str) -> list[tuple[str, int | None]]:
    return [(e.treatment, e.visits) for e in read_summary(text, "10/01/2016").episodes
            if e.treatment in ("PhysicalTherapy", "ChiropracticManipulation", "Acupuncture")]


@pytest.mark.parametrize("text, expected", [
    ("She has had 8 sessions of physical therapy.", [("PhysicalTherapy", 8)]),
    ("Treatment rendered included medications and a course of physical therapy (8 sessions in November).",
     [("PhysicalTherapy", 8)]),
    ("Past treatments included chiropractic care (at least 4 visits) and medications.", [("ChiropracticManipulation", 4)]),
    ("Prior treatment has consisted of 6 acupuncture treatments.", [("Acupuncture", 6)]),
    ("Records include 7 physical therapy reports.", [("PhysicalTherapy", 7)]),
    ("Treatment to date has included 12 sessions of physical therapy and medication.", [("PhysicalTherapy", 12)]),
    ("The patient received 6 acupuncture treatments.", [("Acupuncture", 6)]),
    # an abbreviation with its spelling-out in parentheses
    ("Treatment to date has included medication and 6 PT (physical therapy) sessions.", [("PhysicalTherapy", 6)]),
    ("She has had 10 PT (physical therapy) visits.", [("PhysicalTherapy", 10)]),
    ("He completed chiropractic (manipulative therapy) x 6.", [("ChiropracticManipulation", 6)]),
    ("Records include 4 PT (physical therapy) progress notes.", [("PhysicalTherapy", 4)]),
])
def test_counts_of_care_given(text, expected):
    assert history(text) == expected


@pytest.mark.parametrize("text", [
    "The request for authorization (received on 11-23-2016) shows that 6 sessions of acupuncture were requested.",
    "The request for 12 sessions of physical therapy was modified to 6 sessions.",
    "Utilization review non-certified 8 sessions of chiropractic care.",
    "A request was received on 12/01/2016 for 6 sessions of physical therapy.",
])
def test_nothing_is_counted_inside_a_request_clause(text):
    assert history(text) == []


@pytest.mark.parametrize("text, expected", [
    ("A utilization review denied the request for chiropractic x 8 as the patient has had 8 chiropractic sessions.",
     [("ChiropracticManipulation", 8)]),
    ("She has had 8 sessions of physical therapy and a request was made for 8 more sessions of physical therapy.",
     [("PhysicalTherapy", 8)]),
    ("The request was denied because the patient had completed 10 physical therapy sessions.", [("PhysicalTherapy", 10)]),
])
def test_history_beside_a_request_clause_still_counts(text, expected):
    assert history(text) == expected


@pytest.mark.parametrize("text, failed", [
    ("She has had 8 sessions of physical therapy without relief.", True),
    ("Treatment to date has included physical therapy and medications, which failed to help.", True),
    ("He continues to have low back pain despite physical therapy and medication.", True),
    ("Pain persists after 6 chiropractic visits.", True),
    ("She reports ongoing pain after a course of acupuncture.", True),
    ("He has had 6 sessions of physical therapy.", False),  # care given, nothing said of its result
    ("She has had 6 sessions of physical therapy and is improving with it.", False),
    ("Chiropractic treatment decreased his pain from 8 to 5.", False),
])
def test_conservative_care_failed_only_when_the_summary_says_so(text, failed):
    facts = read_summary(text, "10/01/2016")
    assert facts.care_failed is failed
    assert bool(facts.spans.get("care_failed")) is failed


def test_no_documented_improvement_is_care_that_failed():
    assert read_summary("She has had 8 visits of physical therapy. There is no documented functional improvement.",
                        "10/01/2016").care_failed is True


PERIOPERATIVE_LETTER = """Case Number: CM99-0000002
Date Assigned: 02/10/2016 Date of Injury: 03/14/2015
Decision Date: 03/01/2016 UR Denial Date: 01/20/2016

CLINICAL CASE SUMMARY
The expert reviewer developed the following clinical case summary based on a review of the
case file, including all medical records:

The claimant is a 50 year old male with a right shoulder injury. Surgery is planned.

IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:

Medical clearance: Upheld

Decision rationale: Invented for the tests.

CBC: Upheld

Decision rationale: Invented for the tests.

Assistant surgeon: Upheld

Decision rationale: Invented for the tests.

Cold therapy unit, 7 days rental: Upheld

Decision rationale: Invented for the tests.

Physical therapy for the right shoulder x 6: Upheld

Decision rationale: Invented for the tests.
"""


def test_perioperative_items_are_associated_surgical_services_however_named(tmp_path):
    """Clearance, pre-operative tests, an assistant surgeon and a cold therapy unit exist
    only around a surgery, so they follow its decision even when the item line does not say
    "associated surgical service"; physical therapy does not."""
    from reasoner.letters.importer import import_letter
    from reasoner.namespaces import GR

    path = tmp_path / "perioperative.txt"
    path.write_text(PERIOPERATIVE_LETTER)
    imported = import_letter(path)
    g = imported.graph
    purpose = {str(g.value(r, GR.itemNumber)): g.value(r, GR.carePurpose) for r in g.subjects(GR.itemNumber, None)}
    assert purpose == {"1": GR.AssociatedSurgicalService, "2": GR.AssociatedSurgicalService,
                       "3": GR.AssociatedSurgicalService, "4": GR.AssociatedSurgicalService, "5": None}


@pytest.mark.parametrize("text, outcome", [
    # "worker" is not work: an improvement of an injured worker is not a functional gain
    ("The injured worker has had 7 physical therapy sessions. The injured worker reported improvement.", None),
    ("The injured worker has had 7 physical therapy sessions and reported minimal improvement despite them.",
     "OutcomeNotDocumented"),
    ("She has had 6 sessions of physical therapy with slight improvement in pain.", "OutcomeNotDocumented"),
    ("He had 8 acupuncture treatments with no significant improvement in function.", "OutcomeNotDocumented"),
    ("He completed 8 physical therapy visits and reported a 30% improvement in function.", "ObjectiveFunctionalImprovement"),
    ("He had 6 physical therapy visits. He reported improvement and returned to work.", "ObjectiveFunctionalImprovement"),
    ("She has had 6 acupuncture treatments, with improved ability to perform activities of daily living.",
     "ObjectiveFunctionalImprovement"),
])
def test_an_improvement_is_functional_only_when_the_summary_measures_function(text, outcome):
    episodes = read_summary(text, "10/01/2016").episodes
    assert [e.outcome for e in episodes if e.visits] == [outcome]


@pytest.mark.parametrize("text, age", [
    ("The injured worker is a 45-year-old male who was injured at work.", 45),
    ("The applicant is a 999-year-old male who was injured at work.", None),
    ("The applicant is a 7 year old female.", None),
])
def test_an_age_no_worker_has_is_not_read(text, age):
    assert read_summary(text, "10/01/2016").age == age


def ongoing_drugs(text: str) -> dict[str, bool]:
    return {e.treatment: e.ongoing for e in read_summary(text, "10/01/2016").episodes if e.treatment == "NSAID"}


@pytest.mark.parametrize("text, ongoing", [
    # a drug in a list of care, not said to be past, is still taken (a PPI may go with it)
    ("Current medications include naproxen and Norco.", True),
    ("Treatment to date has included physical therapy and Motrin.", True),
    ("Her medications included Celebrex 200 mg daily.", True),
    ("The treatment plan included Naproxen and Pantoprazole.", True),
    # said to be past, or tried and failed: not under way
    ("Past medications included ibuprofen.", False),
    ("Treatment to date has included previous use of meloxicam.", False),
    ("He has tried naproxen without relief.", False),
    ("Prior treatment has consisted of Anaprox, which was discontinued.", False),
])
def test_a_listed_drug_is_under_way_unless_said_to_be_past(text, ongoing):
    assert ongoing_drugs(text) == {"NSAID": ongoing}
