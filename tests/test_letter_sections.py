"""Item paragraphs of the IMR-issues section: a page break that cuts an item's sentence
leaves a blank line inside it; the item still starts where its paragraph starts."""

import pytest

from reasoner.letters.sections import split_letter

HEAD = ("Case Number: CM17-0000001 Date of Injury: 10/25/2016\nCLINICAL CASE SUMMARY\nThe patient is a 51 year old "
        "male with low back pain.\nIMR ISSUES, DECISIONS AND RATIONALES\nThe Final Determination was based on "
        "decisions for the disputed items/services set forth below:\n\n")
RATIONALE = "\nMAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.\n\n"


def items(*paragraphs: str) -> list[str]:
    return [item.text for item in split_letter(HEAD + "".join(paragraphs)).items]


@pytest.mark.parametrize("first, rest", [
    # the page break falls between the verb and its agent
    ("Physical therapy 2 times a week for 3 weeks (6) was the original request. Physical therapy 2 times a "
     "week for 1 week (2) was authorized", "by the Claims Administrator. The remaining IMR eligible portion of the "
     "original request, Physical therapy 2 times a week for 2 weeks (4) is"),
    # between a drug and what it is for
    ("Norco 10/325mg #60", "for the lumbar spine"),
    # after a comma
    ("Acupuncture 6 sessions,", "lumbar spine"),
])
def test_an_item_cut_by_a_page_break_is_read_whole(first, rest):
    for blank in ("\n\n", "\n \n", "\n\n\n"):
        (text,) = items(first + blank + rest + ":  Upheld" + RATIONALE)
        assert text == f"{first} {rest}", repr(blank)


def test_a_capitalised_paragraph_after_a_blank_line_is_an_item_of_its_own():
    (text,) = items("This paragraph introduces the items.\n\nMRI of the lumbar spine:  Upheld" + RATIONALE)
    assert text == "MRI of the lumbar spine"


def test_a_cut_item_never_reaches_back_into_the_item_before():
    texts = items("MRI of the lumbar spine:  Upheld" + RATIONALE,
                  "Acupuncture 6 sessions,\n\nlumbar spine:  Overturned" + RATIONALE)
    assert texts[0] == "MRI of the lumbar spine"
    assert texts[1].startswith("Acupuncture"), texts
