"""Parse one disputed item line ("Physical therapy 2 times a week for 3 weeks to the
lumbar spine") into a treatment class, quantity, frequency and duration, body regions and
laterality, compound ingredients, and for modified requests the original quantity beside
the remaining IMR-eligible portion, which is what the IMR decides."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reasoner.letters import lexicon

NUMBER_WORDS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"twenty-four": 24, "thirty": 30, "once": 1, "twice": 2, "thrice": 3})
# Treatments whose bare "evaluation" is an office visit rather than a course of treatment
EVALUATION_ONLY = {"ChiropracticManipulation", "PhysicalTherapy", "OccupationalTherapy", "Acupuncture"}
NUM = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
UNITS = r"(?:sessions?|visits?|treatments?|appointments?)\b(?!\s*(?:a|per)\s+week)"


@dataclass
class ParsedItem:
    text: str
    treatment: str | None = None
    quantity: int | None = None
    original_quantity: int | None = None
    frequency_per_week: int | None = None
    duration_weeks: int | None = None
    regions: list[str] = field(default_factory=list)
    laterality: str | None = None
    ingredients: list[str] = field(default_factory=list)


def number(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def parse_item(text: str) -> ParsedItem:
    item = ParsedItem(text=text)
    # A modified request names the original and the remaining IMR-eligible portion; the
    # treatment and regions come from the part the IMR decides.
    remaining = re.search(r"remaining (?:IMR )?eligible portion[^,]*,\s*(.*)$", text, re.I)
    decided = remaining.group(1) if remaining else text
    original = re.split(r"\bwas the original request\b", text, flags=re.I)[0] if "original request" in text.lower() else None
    item.treatment = find_treatment(decided) or find_treatment(text)
    item.regions = find_regions(decided) or find_regions(text)
    item.laterality = find_laterality(decided)
    item.ingredients = find_ingredients(decided) if item.treatment == "CompoundedTopical" else []
    item.frequency_per_week, item.duration_weeks = frequency(decided)
    rental = re.search(r"\b(\d+)\s*days?\s+rental", decided, re.I)
    if rental:
        item.duration_weeks = -(-int(rental.group(1)) // 7)
    item.quantity = quantity(decided, item.frequency_per_week, item.duration_weeks)
    if remaining:
        # "two sessions for the back and eight sessions for the wrist": the portion is the sum
        parts = [number(m.group(1)) for m in re.finditer(rf"\b{NUM}\s+(?:\w+\s+){{0,3}}?{UNITS}", decided, re.I)]
        if len(parts) > 1:
            item.quantity = sum(parts)
    if item.treatment in EVALUATION_ONLY and item.quantity is None and re.search(r"evaluation|consult", decided, re.I):
        item.treatment = "OfficeVisit"  # "chiropractic evaluation" is a visit, not a course
    if original is not None:
        item.original_quantity = quantity(original, *frequency(original))
        authorized = re.search(r"\.\s*(.*?)\bwas (?:authorized|certified|approved|modified)", text, re.I)
        if remaining is None and authorized and item.original_quantity:
            done = quantity(authorized.group(1), *frequency(authorized.group(1)))
            if done and done < item.original_quantity:
                item.quantity = item.original_quantity - done
            else:
                item.quantity = item.original_quantity
        elif remaining is None:
            item.quantity = item.original_quantity
    return item


# The imaging that guides an injection is part of the injection, not a study of its own
GUIDANCE = r"\b(?:ultrasound|sonograph\w*|fluoroscop\w*|CT)[- ]guid(?:ed|ance)\b|\bunder (?:ultrasound|fluoroscop\w*)(?: guidance)?"


def find_treatment(text: str) -> str | None:
    text = re.sub(GUIDANCE, " ", text, flags=re.I)
    is_compound = re.search(lexicon.COMPOUND_BRANDS, text, re.I) or (
        re.search(lexicon.COMPOUND, text, re.I) and not re.search(r"Voltaren|Lidoderm|patch", text, re.I))
    if is_compound and find_ingredients(text):
        return "CompoundedTopical"
    for pattern, treatment in lexicon.DRUGS:
        if re.search(pattern, text, re.I):
            return treatment
    for pattern, treatment in lexicon.TREATMENTS:
        if re.search(pattern, text, re.I):
            return treatment
    return None


def find_ingredients(text: str) -> list[str]:
    return sorted({cls for pattern, cls in lexicon.INGREDIENTS if re.search(pattern, text, re.I)})


def find_regions(text: str) -> list[str]:
    text = re.sub(lexicon.NOT_REGIONS, " ", text, flags=re.I)
    found = []
    for pattern, region in lexicon.REGIONS:
        if region and re.search(r"\b(?:" + pattern + r")", text, re.I) and region not in found:
            found.append(region)
    return found


def find_laterality(text: str) -> str | None:
    if re.search(r"\bbilateral\b|\bboth\b|\bB[UL]Es?\b", text, re.I):
        return "Bilateral"
    sides = {side for side in ("left", "right") if re.search(rf"\b{side}\b|\b{side[0]}[UL]Es?\b", text, re.I)}
    if len(sides) == 2:
        return "Bilateral"
    return {"left": "Left", "right": "Right"}.get(sides.pop()) if sides else None


def frequency(text: str) -> tuple[int | None, int | None]:
    """Visits per week and weeks: "2 times a week for 3 weeks", "2x4", "three times per
    week for two weeks", "twice a week for 3 weeks", "2 times 6"."""
    daily = re.search(rf"\bdaily\b.*?\bfor\s+{NUM}\s+weeks?", text, re.I)
    if daily:
        return 7, number(daily.group(1))
    # "1 to 2 times a week for 4 weeks": the guidelines give frequencies as ranges too, and a
    # request whose lower end fits is one a reviewer can certify; read the lower end
    ranged = _first_match(RANGE_PATTERNS, text)
    if ranged:
        return number(ranged.group(1)), number(ranged.group(3))
    m = _first_match(FREQUENCY_PATTERNS, text)
    return (number(m.group(1)), number(m.group(2))) if m else (None, None)


def quantity(text: str, per_week: int | None, weeks: int | None) -> int | None:
    # "Tylenol #3", "codeine #3": a strength, not a count
    text = re.sub(r"\b(?:Tylenol(?: with codeine)?|codeine)\s*(?:#|No\.?\s?)[234]\b", "Tylenol with codeine", text, flags=re.I)
    m = _first_match(QUANTITY_PATTERNS, text)
    if m:
        return number(m.group(1))
    return per_week * weeks if per_week and weeks else None


def _first_match(patterns: tuple[str, ...], text: str) -> re.Match | None:
    return next((m for pattern in patterns if (m := re.search(pattern, text, re.I))), None)


# "times a week", "x/wk", "x week", "per week", "weekly"
PER_WEEK = r"(?:(?:(?:times?|x)\s*(?:(?:a|per|/|each)\s*)?|(?:a|per|/|each)\s*)(?:week|wk)\b|(?:(?:times?|x)\s*)?weekly)"
RANGE_PATTERNS = (
    rf"{NUM}\s*(?:to|-|–|or)\s*{NUM}\s*{PER_WEEK}\s*(?:for|x|times)\s*{NUM}\s*(?:weeks?|wks?)\b",
    rf"{NUM}\s*(?:-|–)\s*{NUM}\s*x\s*{NUM}\b",
)
FREQUENCY_PATTERNS = (
    rf"{NUM}\s*{PER_WEEK}\s*(?:for|x|times)\s*{NUM}\s*(?:weeks?|wks?)\b",
    rf"{NUM}\s*x\s*{NUM}\b",
    rf"{NUM} times {NUM}\b(?!\s*(?:sessions|visits))",
    rf"{NUM}\s*(?:visits?|sessions?)\s*(?:a|per)\s*week\s*for\s*{NUM}\s*(?:weeks?|wks?)\b",
)
# "x 4 weeks" is a duration, not a count
NOT_A_SPAN = r"(?!\s*(?:weeks?|wks?|days?|months?)\b)"
# Stated counts, most explicit first; a frequency x duration product is the fallback.
QUANTITY_PATTERNS = (
    rf"\({NUM}(?:\s*{UNITS})?\)",
    rf"{NUM}\s+(?:additional\s+|more\s+|\w+\s+){{0,3}}{UNITS}",
    rf"\b(?:sessions?|visits?|treatments?)\s*(?:x|#)\s*{NUM}",
    rf"\bx\s*{NUM}\b{NOT_A_SPAN}",
    rf"#\s*{NUM}\b",
    rf"\b(?:QTY|quantity)\s*:?\s*(?:of\s+)?{NUM}",
    rf"\b{NUM}\s*(?:days?|weeks?)\s+rental",
    rf"\btimes\s+{NUM}\b{NOT_A_SPAN}",
    r",\s*(\d+)\s*$",
)
