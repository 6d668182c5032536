"""Examination findings and documented problems read by kind of sentence, each in several
phrasings written here (not copied from letters): a result stated after its test or measure
("straight leg raise was positive", "strength was 4/5"), everyday names of sleep, gait and
stomach problems, surgery recommended or considered, therapy that stopped helping; and the
negations and normal results that must not count."""

from __future__ import annotations

import pytest

from reasoner.letters.summary import read_summary


def findings(text: str) -> list[str]:
    return read_summary(text, "10/01/2016").findings


@pytest.mark.parametrize("text, finding", [
    ("Straight leg raise was positive on the right at 45 degrees.", "NeurologicalDeficit"),
    ("Seated straight leg raising test is positive on the left.", "NeurologicalDeficit"),
    ("SLR was positive bilaterally.", "NeurologicalDeficit"),
    ("There was a positive SLR on the left.", "NeurologicalDeficit"),
    ("Motor strength was 4/5 in the left extensor hallucis longus.", "NeurologicalDeficit"),
    ("There was weakness of the right wrist extensors, graded 4+/5.", "NeurologicalDeficit"),
    ("Deep tendon reflexes were diminished at the left Achilles.", "NeurologicalDeficit"),
    ("There were hypoactive patellar reflexes.", "NeurologicalDeficit"),
    ("Sensation was decreased in the left L5 dermatome.", "NeurologicalDeficit"),
    ("The surgeon has recommended a lumbar fusion.", "SurgicalCandidate"),
    ("The provider recommended a right L4-5 microdiscectomy.", "SurgicalCandidate"),
    ("She is being considered for arthroscopic surgery of the right shoulder.", "SurgicalCandidate"),
    ("A right knee arthroscopy was recommended.", "SurgicalCandidate"),
    ("He reported trouble sleeping.", "Insomnia"),
    ("She reports poor sleep because of the pain.", "Insomnia"),
    ("He has sleep difficulties.", "Insomnia"),
    ("She walks with a limp.", "ImpairedAmbulation"),
    ("He had an abnormal gait.", "ImpairedAmbulation"),
    ("She ambulates with a walker.", "ImpairedAmbulation"),
    ("The patient has plateaued in physical therapy.", "FailedToProgressInTherapy"),
    ("She has not progressed with physical therapy.", "FailedToProgressInTherapy"),
    ("He reported heartburn with ibuprofen.", "GastrointestinalRiskFactor"),
    ("She has gastrointestinal upset with her medications.", "GastrointestinalRiskFactor"),
    ("She reported numbness and tingling in the left leg.", "NeuropathicPain"),
    ("There was allodynia over the dorsum of the foot.", "NeuropathicPain"),
    # red flags in the words of a history or an examination
    ("She reported new bowel incontinence.", "RedFlag"),
    ("He has saddle anesthesia.", "RedFlag"),
    ("He has progressive weakness of the left leg.", "RedFlag"),
    ("She reports unexplained weight loss and night pain.", "RedFlag"),
    ("He has a history of cancer.", "RedFlag"),
    ("He fell from a ladder and a fracture was suspected.", "RedFlag"),
    ("There was a foot drop on the left.", "NeurologicalDeficit"),
    # homebound described rather than named
    ("She is unable to leave her home without assistance.", "Homebound"),
    ("Leaving the home requires a considerable and taxing effort.", "Homebound"),
    ("She is confined to the home.", "Homebound"),
    ("She has difficulty with prolonged walking.", "ImpairedAmbulation"),
    ("He is able to walk only one block.", "ImpairedAmbulation"),
    # the other gastrointestinal risk factors of MTUS Chronic Pain (2009) p. 68
    ("She also takes aspirin 81 mg daily.", "GastrointestinalRiskFactor"),
    ("He is on prednisone for asthma.", "GastrointestinalRiskFactor"),
    ("The patient is at increased GI risk.", "GastrointestinalRiskFactor"),
])
def test_a_finding_in_its_everyday_phrasings_is_read(text, finding):
    assert finding in findings(text)


@pytest.mark.parametrize("text", [
    "Straight leg raising test was negative bilaterally.",
    "Straight leg raise was not positive.",
    "Motor strength was 5/5 throughout.",
    "Strength was 5/5 and sensation was intact.",
    "Reflexes were not diminished.",
    "There was no decreased sensation.",
    "Pain was 4/5 on the scale.",
    "Surgery was not recommended.",
    "The provider recommended against surgery.",
    "He is not a surgical candidate.",
    "He denied difficulty sleeping.",
    "Gait was normal.",
    "She does not limp.",
    "She denies any GI symptoms.",
    "He denies tingling.",
    "The physical therapist reports she is progressing well and has not plateaued.",
    "She denies bowel or bladder incontinence.",
    "No saddle anesthesia.",
    "He denies night pain, fever or weight loss.",
    "She has no history of cancer.",
    "He is not homebound and drives himself.",
    "She is not confined to the home.",
    "There is no documentation of GI risk factors.",
    "She has no GI risk factors.",
    "He denies taking aspirin.",
    # the review's words about the request are no findings
    "The UR recommended non-certification of the surgery.",
    "The reviewer recommended denial of the fusion.",
    "A surgical consultation was requested.",
    "The request for a wheelchair was denied.",
])
def test_negated_or_normal_results_are_not_findings(text):
    assert findings(text) == []


@pytest.mark.parametrize("text, expected", [
    ("Rule out lumbar radiculopathy.", []),
    ("Possible radiculopathy.", []),
    ("There may be muscle spasm.", []),
    ("Radiculopathy is suspected.", []),
    ("Questionable muscle spasm.", []),
    ("He has lumbar radiculopathy.", ["RadiculopathyOnExamination"]),
    # a red flag is a serious condition suspected: suspicion is what it documents
    ("Rule out tumor.", ["RedFlag"]),
    ("A fracture was suspected.", ["RedFlag"]),
])
def test_a_hedged_finding_is_not_documented_but_a_suspected_red_flag_is(text, expected):
    assert findings(text) == expected
