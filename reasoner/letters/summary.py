"""Case facts from a letter's CLINICAL CASE SUMMARY: age, sex, diagnoses, documented
findings (negation and uncertainty by medspaCy's ConText, so "no sensory or motor
deficit" is not a deficit), treatment history with visit counts, and what that history
did for function ("only temporary relief", "no documented functional improvement",
"improved function by 30%").

Each fact remembers the sentences it was read from, as (start, end) offsets in the summary
text, so the case graph can say what every fact rests on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from reasoner.letters import lexicon
from reasoner.letters.dates import iso_date, us_date
from reasoner.letters.items import NUM, number
from reasoner.letters.reading import LetterError
from reasoner.letters.sections import Span


@dataclass
class Episode:
    treatment: str
    visits: int | None = None
    outcome: str | None = None      # functional outcome individual's local name
    ongoing: bool = False
    response: str | None = None     # Ineffective when the records say it failed
    spans: list[Span] = field(default_factory=list)  # the sentences it was read from


# A sentence saying the treatments in it did not work
FAILED = re.compile(r"failed|without (?:significant )?(?:relief|improvement|benefit)|no (?:significant )?(?:relief|improvement|benefit)|"
                    r"did not (?:help|improve|provide)|not (?:helped|improved)|minimal (?:relief|improvement)|ineffective|unsuccessful", re.I)
# A list of care that speaks of drugs no longer taken ("past medications included", "had
# tried naproxen", "discontinued")
PAST_USE = re.compile(r"\b(?:past|prior|previous\w*|formerly|history of|discontinu\w*|stopped|no longer|tried|failed)\b", re.I)
# Conservative treatments a guideline may name as first line, beyond the counted ones
FIRST_LINE_WORDS = ((r"injections?|cortisone", "CorticosteroidJointInjection"), (r"medications?", "NSAID"),
                    (r"home exercise", "HomeExerciseProgram"))


@dataclass
class SummaryFacts:
    age: int | None = None
    sex: str | None = None
    injury_date: str | None = None  # ISO
    diagnoses: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    surgery_authorized: bool = False
    care_failed: bool = False       # the summary documents that care given has not resolved the complaint
    review_date: str | None = None  # ISO date of the utilization review, when the summary gives it
    # the sentences each fact was read from: by diagnosis, by finding, and by scalar fact
    # ("patient", "injury_date", "review_date", "surgery_authorized", "care_failed")
    diagnosis_spans: dict[str, list[Span]] = field(default_factory=dict)
    finding_spans: dict[str, list[Span]] = field(default_factory=dict)
    spans: dict[str, list[Span]] = field(default_factory=dict)


MONTHS = {m: n for n, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
AGE_SEX = re.compile(r"(\d{1,3})[- ]year[- ]old\s+(male|female|man|woman|gentleman|lady)", re.I)
WRITTEN_INJURY_DATE = re.compile(r"injury (?:date )?(?:of|on)\s+([A-Z][a-z]+)\s+(\d{1,2}),\s+(\d{4})")
REVIEW_DATE = re.compile(r"utilization review[^.]{0,40}?(?:from|dated|of|on)\s+([A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4})",
                         re.I)
SURGERY_AUTHORIZED = re.compile(
    r"(?:surgery|arthroscopy|procedure|operation)[^.]{0,60}(?:was|has been|were) (?:authorized|certified|approved)", re.I)
PLANNED_SURGERY = re.compile(r"schedul\w*[^.]{0,60}(?:repair|surgery|arthroscopy|release|fusion|replacement|procedure)|"
                             r"(?:surgery|repair|procedure)[^.]{0,40}(?:is|was) (?:scheduled|planned)", re.I)
# Where the summary is cut into sentences: for diagnoses at every full stop or semicolon,
# for history (and facts read from the whole summary) only before a capital letter.
DIAGNOSIS_BREAK = r"(?<=[.;])\s+"
SENTENCE_BREAK = r"(?<=[.;])\s+(?=[A-Z])"
HAD = r"(?:has had|had|have had|completed|attended|received|underwent|undergone|participated in|status post|s/p)"
TREAT = "|".join(f"(?:{pattern})" for pattern, _ in lexicon.HISTORY_TREATMENTS)
GLOSS = r"(?:\s*\([^()]{1,40}\))?"  # an abbreviation spelled out: "6 PT (physical therapy) sessions"
COUNT_PATTERNS = (
    rf"{NUM}\s+(?:\w+\s+){{0,2}}?(?:sessions?|visits?|treatments?)\s+of\s+({TREAT})",
    rf"{NUM}\s+(?:prior\s+|previous\s+|completed\s+|authorized\s+)?({TREAT})(?:\s+therapy)?{GLOSS}\s+(?:sessions?|visits?|treatments?)",
    rf"({TREAT})(?:\s+therapy)?{GLOSS}\s+(?:x|times)\s*{NUM}",
    # "a course of physical therapy (8 sessions in November)", "(at least 4 visits)"
    rf"({TREAT})(?:\s+(?:therapy|care|treatments?|sessions))?\s*\((?:at least\s+|approximately\s+|about\s+|over\s+)?{NUM}\s+(?:sessions?|visits?|treatments?)",
    # "7 physical therapy reports", "8 physical therapy notes"
    rf"{NUM}\s+({TREAT})(?:\s+therapy)?{GLOSS}\s+(?:reports?|notes?|progress notes?)",
)


# medspaCy takes seconds per 10,000 characters and spaCy refuses a text over 1,000,000;
# real summaries are under 15,000.
MAX_SUMMARY_CHARACTERS = 100_000


def read_summary(summary: str, injury_date_header: str | None) -> SummaryFacts:
    if len(summary) > MAX_SUMMARY_CHARACTERS:
        raise LetterError(f"CLINICAL CASE SUMMARY of {len(summary):,} characters; a summary has at most "
                          f"{MAX_SUMMARY_CHARACTERS:,}")
    facts = SummaryFacts()
    m = AGE_SEX.search(summary)
    if m:
        # an age no worker has (a misprint, "999-year-old") is not read: the case input
        # shapes accept 14 to 110, and a case the importer writes must be one decide reads
        facts.age = int(m.group(1)) if 14 <= int(m.group(1)) <= 110 else None
        facts.sex = "male" if m.group(2).lower() in ("male", "man", "gentleman") else "female"
    facts.injury_date = us_date(injury_date_header) if injury_date_header else written_date(summary)
    facts.diagnoses = _diagnoses(summary, facts.diagnosis_spans)
    facts.findings = _findings(summary, facts.finding_spans)
    facts.episodes = _history(summary)
    facts.review_date = review_date(summary)
    facts.surgery_authorized = bool(SURGERY_AUTHORIZED.search(summary))
    _care_failed(summary, facts)
    read_here = {"patient": (AGE_SEX, facts.age is not None),
                 "injury_date": (WRITTEN_INJURY_DATE, facts.injury_date and not injury_date_header),
                 "review_date": (REVIEW_DATE, facts.review_date), "surgery_authorized": (SURGERY_AUTHORIZED, facts.surgery_authorized)}
    for fact, (pattern, read) in read_here.items():
        if read and (m := pattern.search(summary)):
            facts.spans[fact] = sentences_around(summary, m.span())
    return facts


# Care that has not resolved the complaint: failure stated, or symptoms that persist despite
# care ("continued pain despite physical therapy", "ongoing pain"), and care still helping
CARE_NOT_RESOLVING = re.compile(
    r"\bdespite\b|\bpersist\w*|\bongoing (?:pain|symptoms|complaints)|continue[sd]? to (?:have|experience|report|complain)|"
    r"continued (?:pain|symptoms|complaints)|failed (?:conservative|to (?:improve|respond|help))|"
    r"no (?:significant |lasting )?(?:relief|improvement|benefit)|no (?:documentation of |documented )(?:objective )?(?:functional )?"
    r"(?:improvement|benefit|gains?)|the same (?:pain|symptoms|limits)|not improv\w*|without (?:significant )?(?:relief|improvement)|"
    r"(?:was|were) (?:not helpful|ineffective|unsuccessful)", re.I)
CARE_HELPING = re.compile(
    r"\b(?:is|was|has been) improving|improving with|continues to improve|\bhelped\b|\bhelpful\b|"
    r"significant (?:benefit|relief|improvement)|decreased (?:his|her|the) pain|reduc\w+ (?:his|her|the) pain", re.I)


def _care_failed(summary: str, facts: SummaryFacts) -> None:
    """Conservative care counts as failed only when the summary says so (a failed treatment,
    or symptoms persisting despite care), never from the time since injury alone; care the
    summary says is helping has not failed (MTUS: imaging and referral follow a failure to
    respond to conservative care)."""
    sentences = sentence_spans(summary, SENTENCE_BREAK)
    failing = [span for sentence, span in sentences if CARE_NOT_RESOLVING.search(sentence)]
    failing += [span for e in facts.episodes if e.response == "Ineffective" for span in e.spans]
    helping = any(CARE_HELPING.search(sentence) and not CARE_NOT_RESOLVING.search(sentence) for sentence, _ in sentences)
    facts.care_failed = bool(failing) and not helping
    if facts.care_failed:
        facts.spans["care_failed"] = sorted(set(failing))


def sentence_spans(summary: str, breaks: str = SENTENCE_BREAK) -> list[tuple[str, Span]]:
    """The pieces re.split(breaks, summary) gives, each with its span in the summary."""
    pieces, start = [], 0
    for m in re.finditer(breaks, summary):
        pieces.append((summary[start:m.start()], (start, m.start())))
        start = m.end()
    pieces.append((summary[start:], (start, len(summary))))
    return pieces


def sentences_around(summary: str, span: Span) -> list[Span]:
    """The sentence(s) a stretch of the summary lies in (several when it crosses a break)."""
    start, end = span
    return [piece for _, piece in sentence_spans(summary) if piece[0] < max(end, start + 1) and piece[1] > start] or [span]


def _add_span(spans: list[Span], span: Span) -> None:
    if span not in spans:
        spans.append(span)


def written_date(summary: str) -> str | None:
    m = WRITTEN_INJURY_DATE.search(summary)
    if m and m.group(1).lower() in MONTHS:
        return iso_date(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
    return None


DIAGNOSIS_CUES = re.compile(r"diagnos|claim for|treat(?:ed|ment) for|undergoing treatment|sustained|injur|history of", re.I)


def review_date(summary: str) -> str | None:
    """The utilization review's date: "A utilization review from December 24, 2013" or
    "Utilization Review dated 12-21-16"."""
    m = REVIEW_DATE.search(summary)
    if not m:
        return None
    text = m.group(1)
    words = re.match(r"([A-Za-z]+) (\d{1,2}), (\d{4})", text)
    if words and words.group(1).lower() in MONTHS:
        return iso_date(int(words.group(3)), MONTHS[words.group(1).lower()], int(words.group(2)))
    if words:
        return None
    month, day, year = re.split(r"[-/]", text)
    return iso_date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))


def _diagnoses(summary: str, spans: dict[str, list[Span]]) -> list[str]:
    """Conditions named in sentences that state diagnoses ("filed a claim for ...",
    "undergoing treatment for ...", "diagnoses include ..."), not in findings or complaints.
    `spans` gets each condition's sentence(s)."""
    sentences = [(s, span) for s, span in sentence_spans(summary, DIAGNOSIS_BREAK) if DIAGNOSIS_CUES.search(s)]
    stated = " ".join(s for s, _ in sentences)
    found = []
    for pattern, condition in lexicon.CONDITIONS:
        if (m := re.search(pattern, stated, re.I)) and condition not in found:
            found.append(condition)
            spans[condition] = _joined_sentences(sentences, m.span())
    return found


def _joined_sentences(sentences: list[tuple[str, Span]], span: Span) -> list[Span]:
    """The spans of the sentences a match in their " "-joined text covers."""
    covered, at = [], 0
    for text, piece in sentences:
        if at < max(span[1], span[0] + 1) and at + len(text) > span[0]:
            covered.append(piece)
        at += len(text) + 1
    return covered


@lru_cache(maxsize=1)
def _nlp():
    """medspaCy's rule-based pipeline (sentence splitter, target matcher, ConText) with our
    finding and outcome phrases as targets. Loaded once; needs no model download."""
    from loguru import logger

    logger.remove()  # PyRuSH logs every token at DEBUG otherwise
    import medspacy
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule

    nlp = medspacy.load()
    nlp.get_pipe("medspacy_target_matcher").add(
        [TargetRule(phrase, finding) for finding, phrases in lexicon.FINDINGS.items() for phrase in phrases]
        + [TargetRule(phrase, "OUTCOME") for phrase in OUTCOME_PHRASES])
    nlp.get_pipe("medspacy_context").add([
        ConTextRule("without evidence of", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("lack of", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("failed to", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("no documentation of", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("not documented", "NEGATED_EXISTENCE", direction="BACKWARD"),
        ConTextRule("rule out", "HYPOTHETICAL", direction="FORWARD"),
        ConTextRule("to evaluate for", "HYPOTHETICAL", direction="FORWARD"),
    ])
    return nlp


OUTCOME_PHRASES = ("functional improvement", "functional gains", "functional gain", "improvement in function",
                   "improved function", "increased function", "improvement", "benefit", "relief",
                   "objective improvement", "functional benefit", "improved range of motion",
                   "increased range of motion", "improved")


def _findings(summary: str, spans: dict[str, list[Span]]) -> list[str]:
    """Finding classes with at least one mention ConText does not negate or mark as
    hypothetical ("there was no sensory deficit" is not a deficit). `spans` gets the
    sentence of each such mention (cut as the history is, not as medspaCy cuts, so that one
    sentence has one span whatever read it)."""
    found = []
    for ent in _nlp()(summary).ents:
        if ent.label_ in lexicon.FINDINGS and not (ent._.is_negated or ent._.is_hypothetical or ent._.is_family):
            if ent.label_ not in found:
                found.append(ent.label_)
            for span in sentences_around(summary, (ent.start_char, ent.end_char)):
                _add_span(spans.setdefault(ent.label_, []), span)
    return found


# Words that open a clause about the request under review rather than care already given,
# and what ends such a clause ("UR denied the request ... as the patient has had 8 visits")
REQUEST_CLAUSE = re.compile(r"\brequest\w*|non-?certif\w*|\bdenied\b|utilization review|\bUR\b")
CLAUSE_BREAK = re.compile(r"[,;]|\b(?:as|because|since|who|which|and|but|given that)\b", re.I)


# Sentences that list care given: "Treatment to date has included", "Treatment rendered
# included", "Past treatments included", "Prior treatment has consisted of", "current medications"
TREATMENT_LIST = re.compile(r"treatments? (?:\w+ ){0,2}?(?:has |have )?(?:includ\w*|consist\w* of)|has been treated with|"
                            r"current medications|(?:has|had) (?:tried|failed|undergone)|medications (?:include|included)", re.I)


# What opens a stretch of history: a history verb, a list of care given, or the records
# reviewed ("Records include 7 physical therapy reports")
HISTORY_OPENER = re.compile(rf"{HAD}|{TREATMENT_LIST.pattern}|\b(?:records?|documents?|documentation)\b[^.;]{{0,40}}?\binclud\w*",
                            re.I)


def history_clause(sentence: str) -> tuple[int, int] | None:
    """Where a sentence speaks of care already given: from its history verb ("has had",
    "completed", "received 6 sessions") to the next clause about the request ("... and a
    request was made for 6 more"), so counts there describe history even in a request
    sentence. A history verb inside a request clause ("the request for authorization,
    received on 11-23-2016, ...") is not history."""
    for had in HISTORY_OPENER.finditer(sentence):
        requests = list(REQUEST_CLAUSE.finditer(sentence, 0, had.start()))
        if requests and not CLAUSE_BREAK.search(sentence, requests[-1].end(), had.start()):
            continue  # the verb is the request clause's own
        if had.group(0).lower() == "received" and re.match(r"\s+(?:on|by|from|in|at)\b", sentence[had.end():], re.I):
            continue  # "received on <date>": a document received, not care
        after = REQUEST_CLAUSE.search(sentence, had.end())
        return had.start(), after.start() if after else len(sentence)
    return None


def _history(summary: str) -> list[Episode]:
    episodes: dict[str, Episode] = {}
    sentences = sentence_spans(summary, SENTENCE_BREAK)
    for sentence, span in sentences:
        had = history_clause(sentence)
        if not had:
            continue
        tail = sentence[had[0]:had[1]]
        for pattern in COUNT_PATTERNS:
            for m in re.finditer(pattern, tail, re.I):
                groups = m.groups()
                count_word = groups[0] if re.fullmatch(NUM, groups[0], re.I) else groups[1]
                treat_word = groups[1] if count_word is groups[0] else groups[0]
                treatment = _history_treatment(treat_word)
                visits = number(count_word)
                if treatment and (treatment not in episodes or (episodes[treatment].visits or 0) < visits):
                    episodes[treatment] = Episode(treatment, visits, spans=[span])
    for sentence, span in sentences:  # "Treatment to date has included ..." without counts
        listed = history_clause(sentence) if TREATMENT_LIST.search(sentence) else None
        if listed:
            past = PAST_USE.search(sentence)  # "Past medications included ..." before the list
            sentence = sentence[listed[0]:listed[1]]  # the care given, not the request that follows
            failed = bool(FAILED.search(sentence))
            for pattern, treatment in lexicon.HISTORY_TREATMENTS + lexicon.DRUGS + FIRST_LINE_WORDS:
                if re.search(pattern, sentence, re.I):
                    episode = episodes.setdefault(treatment, Episode(treatment))
                    _add_span(episode.spans, span)
                    if failed:
                        episode.response = "Ineffective"
            # a drug named in a list of care, not said to be past, is still taken
            for pattern, treatment in lexicon.DRUGS:
                if re.search(pattern, sentence, re.I) and not past:
                    episodes[treatment].ongoing = True
    _outcomes(summary, episodes)
    return list(episodes.values())


def _history_treatment(word: str) -> str | None:
    for pattern, treatment in lexicon.HISTORY_TREATMENTS:
        if re.fullmatch(pattern, word, re.I):
            return treatment
    return None


# What makes a stated improvement functional: function, daily activities, work (not the
# "injured worker" every summary names), range of motion, a percentage
FUNCTION_MEASURE = re.compile(r"\bfunction\w*|\bADLs?\b|\bactivit\w*|\bwork\b(?!er)|\bworking\b|range of motion|\d+\s*%", re.I)
# An improvement too small to be the clinically significant one the MTUS asks for
SLIGHT_GAIN = re.compile(r"\b(?:minimal|slight|little|marginal|minor|mild|no significant|not significant)(?:ly)?\s+"
                         r"(?:\w+\s+)?(?:improvement|improved|benefit|relief|gains?)\b|\"minimal improvement\"", re.I)


def _outcomes(summary: str, episodes: dict[str, Episode]) -> None:
    """Attach the documented functional outcome to the counted episodes (those with
    visits): to the ones a sentence names, or to all when it names none."""
    counted = [e for e in episodes.values() if e.visits]
    if not counted:
        return
    doc = _nlp()(summary)
    stated = []  # (episode, the outcome a sentence gives it, that sentence)
    for ent in doc.ents:
        if ent.label_ != "OUTCOME":
            continue
        sentence = ent.sent.text
        if re.search(r"temporary|transient|short[- ]term|brief", sentence, re.I) and "relief" in sentence.lower():
            outcome = "TemporaryReliefOnly"
        elif ent._.is_negated or SLIGHT_GAIN.search(sentence):
            outcome = "OutcomeNotDocumented"
        elif FUNCTION_MEASURE.search(sentence) and not ent._.is_hypothetical:
            outcome = "ObjectiveFunctionalImprovement"
        else:
            continue
        named = [e for e in counted if re.search(_pattern_of(e.treatment), sentence, re.I)]
        for episode in named or counted:
            if episode.outcome != "ObjectiveFunctionalImprovement" or outcome != "OutcomeNotDocumented":
                episode.outcome = episode.outcome if episode.outcome == "TemporaryReliefOnly" else outcome
            stated.extend((episode, outcome, span) for span in sentences_around(summary, (ent.start_char, ent.end_char)))
    for episode, outcome, span in stated:  # the evidence of an outcome: the sentences that state the one it kept
        if episode.outcome == outcome:
            _add_span(episode.spans, span)


def _pattern_of(treatment: str) -> str:
    return next(p for p, t in lexicon.HISTORY_TREATMENTS if t == treatment)
