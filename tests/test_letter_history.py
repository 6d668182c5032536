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


@pytest.mark.parametrize("text, expected", [
    # the count given, not the number authorized
    ("He has completed 8 out of 12 authorized physical therapy sessions.", [("PhysicalTherapy", 8)]),
    ("She attended 4 of the 6 chiropractic visits.", [("ChiropracticManipulation", 4)]),
    # the count after the care, or the care qualified
    ("She has received physical therapy, 16 sessions, for the lumbar spine.", [("PhysicalTherapy", 16)]),
    ("The patient has had 24 post-operative physical therapy sessions.", [("PhysicalTherapy", 24)]),
    ("She has had 12 sessions of post-op PT.", [("PhysicalTherapy", 12)]),
    ("She has been to 10 physical therapy appointments.", [("PhysicalTherapy", 10)]),
    # a time or another treatment before the care is not its count
    ("She has had 6 months of physical therapy sessions.", []),
    ("He received 3 injections and physical therapy sessions.", []),
])
def test_counts_in_other_shapes(text, expected):
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


@pytest.mark.parametrize("text, failed", [
    # failure stated in other words
    ("The patient has not responded to conservative treatment, including NSAIDs.", True),
    ("He reported that therapy did not help.", True),
    ("Conservative measures have been exhausted.", True),
    ("She continues with low back pain that is refractory to conservative care.", True),
    ("Symptoms have been unresponsive to six weeks of conservative treatment.", True),
    ("He has failed 6 months of non-operative care.", True),
    # the reviewer or the UR noting that no failure is documented is not a failure
    ("There was no documentation of failed conservative treatment.", False),
    ("The UR denied the request due to lack of documented failure of conservative care.", False),
    ("The records did not document failure of conservative care.", False),
    ("There is no evidence that she failed conservative treatment.", False),
    ("It was unclear whether conservative care had failed.", False),
])
def test_failure_of_care_in_other_words_but_not_its_absence_noted(text, failed):
    assert read_summary(text, "10/01/2016").care_failed is failed


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


@pytest.mark.parametrize("text, outcome", [
    # gains named by what the worker can do again
    ("He has had 8 chiropractic visits, with increased ability to perform activities of daily living.",
     "ObjectiveFunctionalImprovement"),
    ("She completed 6 acupuncture sessions and has returned to work.", "ObjectiveFunctionalImprovement"),
    ("He has had 6 PT sessions; he is now able to return to full duty.", "ObjectiveFunctionalImprovement"),
    ("She has had 8 physical therapy visits and her work restrictions were reduced.", "ObjectiveFunctionalImprovement"),
    ("He has had 12 sessions of physical therapy and his walking tolerance increased from 10 to 30 minutes.",
     "ObjectiveFunctionalImprovement"),
    # the same gains said not to have happened
    ("She has had 8 physical therapy sessions and is unable to return to work.", "OutcomeNotDocumented"),
    ("He has had 8 physical therapy sessions and has not returned to work.", "OutcomeNotDocumented"),
    ("She has had 8 physical therapy sessions and is not able to return to full duty.", "OutcomeNotDocumented"),
    # relief from medication is not a gain from the counted visits' measure of function
    ("She has had 6 physical therapy sessions. She reports improvement with medications.", None),
    # a goal, a work status, more pain with activity or a drug's tolerance are no gains
    ("She has had 6 PT sessions. The goal is to return to work.", None),
    ("He has had 8 PT visits. Return to work status: off work.", None),
    ("She has had 6 PT sessions. Her pain is worse with increased activity.", None),
    ("He has had 8 PT visits. There is concern about increased tolerance to opioids.", None),
    # an examination's tests are not gains in function
    ("She has had 6 PT sessions. On exam she was able to perform heel and toe walking.", None),
    ("He has had 8 PT visits. He was able to perform full range of motion of the shoulder.", None),
])
def test_a_functional_gain_named_by_what_the_worker_can_do(text, outcome):
    episodes = read_summary(text, "10/01/2016").episodes
    assert [e.outcome for e in episodes if e.visits] == [outcome]


@pytest.mark.parametrize("text, expected", [
    ("After 6 sessions of physical therapy she reported less pain.", [("PhysicalTherapy", 6)]),
    ("Following 12 chiropractic visits, the pain persisted.", [("ChiropracticManipulation", 12)]),
    ("After a total of 8 acupuncture treatments, she stopped.", [("Acupuncture", 8)]),
    # "after" with no count of care is no history
    ("The request for 12 sessions of physical therapy after surgery was modified.", []),
])
def test_care_counted_after_after_or_following(text, expected):
    assert history(text) == expected


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


def drugs_under_way(text: str) -> dict[str, bool]:
    return {e.treatment: e.ongoing for e in read_summary(text, "10/01/2016").episodes if e.treatment in ("NSAID", "Opioid")}


@pytest.mark.parametrize("text, ongoing", [
    # an ending said of one drug does not reach the next one listed
    ("Treatment to date has included Naproxen, which was discontinued, and Norco.", {"NSAID": False, "Opioid": True}),
    ("Treatment to date has included Norco and ibuprofen, which was stopped.", {"NSAID": False, "Opioid": True}),
    # a past-use word reaches the drugs after it until the list comes back to the present
    ("Prior treatment has included a failed trial of naproxen and she is now on tramadol.", {"NSAID": False, "Opioid": True}),
    ("Past medications included ibuprofen and tramadol.", {"NSAID": False, "Opioid": False}),
])
def test_each_listed_drug_is_past_or_under_way_by_its_own_words(text, ongoing):
    assert drugs_under_way(text) == ongoing


@pytest.mark.parametrize("text, outcome", [
    # what a drug taken does for function, by the drug's name or by "medications"
    ("Current medications include Norco. With medications her pain decreases from 8/10 to 4/10, which allows her to "
     "perform her activities of daily living.", "ObjectiveFunctionalImprovement"),
    ("Current medications include naproxen. The medications help her function at work.", "ObjectiveFunctionalImprovement"),
    ("Current medications include Norco. There is no documentation of functional improvement with Norco.",
     "OutcomeNotDocumented"),
    # pain relief alone is not a functional gain
    ("Current medications include tramadol, which reduces her pain.", None),
])
def test_a_drug_taken_has_the_functional_outcome_its_sentences_state(text, outcome):
    drugs = [e for e in read_summary(text, "10/01/2016").episodes if e.treatment in ("Opioid", "NSAID")]
    assert [e.outcome for e in drugs] == [outcome]


def test_what_medications_do_says_nothing_of_the_visits():
    episodes = read_summary("She has had 6 PT sessions. Medications improve her function.", "10/01/2016").episodes
    assert [(e.treatment, e.outcome) for e in episodes if e.visits] == [("PhysicalTherapy", None)]


@pytest.mark.parametrize("text, nsaid", [
    # "medications" in a list stands for the first-line drugs only when the list names none
    ("Treatment to date has included physical therapy and medications.", True),
    ("Current medications include Norco and Flexeril.", False),
    # oral ketoprofen is an NSAID
    ("Treatments to date include medication therapy including Ketoprofen.", True),
])
def test_medications_stand_for_an_nsaid_only_when_no_drug_is_named(text, nsaid):
    assert ("NSAID" in {e.treatment for e in read_summary(text, "10/01/2016").episodes}) is nsaid


@pytest.mark.parametrize("text, treatments", [
    # care given, named without counts, in other words than "treatment to date has included"
    ("She was treated with physical therapy and chiropractic care.", {"PhysicalTherapy", "ChiropracticManipulation"}),
    ("Conservative care has included physical therapy and acupuncture.", {"PhysicalTherapy", "Acupuncture"}),
    ("Prior therapy included chiropractic treatment.", {"ChiropracticManipulation"}),
    ("Previous treatments: physical therapy and acupuncture.", {"PhysicalTherapy", "Acupuncture"}),
    ("He has received chiropractic care and acupuncture.", {"ChiropracticManipulation", "Acupuncture"}),
    ("She has been participating in physical therapy.", {"PhysicalTherapy"}),
    ("He had a course of acupuncture.", {"Acupuncture"}),
    # care asked for is not care given
    ("The treating physician recommended physical therapy.", set()),
    ("The request for a course of physical therapy was denied.", set()),
])
def test_care_given_named_without_counts(text, treatments):
    assert {e.treatment for e in read_summary(text, "10/01/2016").episodes} == treatments


def test_failed_care_without_counts_is_an_episode_that_failed():
    facts = read_summary("She underwent physical therapy without relief.", "10/01/2016")
    assert [(e.treatment, e.response) for e in facts.episodes] == [("PhysicalTherapy", "Ineffective")]
    assert facts.care_failed is True
