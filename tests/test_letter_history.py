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
