"""Letters nobody should have to read: PDFs encrypted in a way that cannot be opened,
nested past any parser's stack, Flate bombs, forms drawn thousands of times, thousands of
pages, text or a case summary far past any real letter, and dates that are no day. Each is
one line naming the file and what is wrong, exit 2, within seconds, no traceback, nothing
written. The PDFs are written here, byte by byte (tests/pdf_builder.py), never committed;
a control PDF of the same letter imports, so the bounds do not refuse real letters."""

from __future__ import annotations

import io
import re
import time

import pytest
from pypdf import PdfReader, PdfWriter

from pdf_builder import flate_bomb, pdf, stream_object, text_stream
from test_cli_files import one_line_error, run

# A letter of the shape split_letter reads: header, CLINICAL CASE SUMMARY, one item line.
HEADER = "Case Number: CM17-0000001 Date of Injury: 10/25/2016\nDecision Date: 02/24/2017 UR Denial Date: 01/09/2017"
SUMMARY = ("The patient is a 51 year old male who has filed a claim for lumbar sprain associated with an industrial "
           "injury. Treatment to date has included 6 physical therapy visits with only temporary relief. "
           "A utilization review from January 9, 2017 denied the request.")
ITEMS = ("IMR ISSUES, DECISIONS AND RATIONALES\nThe Final Determination was based on decisions for the disputed "
         "items/services set forth below:\nSIX PHYSICAL THERAPY VISITS FOR THE LUMBAR SPINE:  Upheld\n"
         "MAXIMUS guideline: Decision based on MTUS Chronic Pain Treatment Guidelines.")


def letter_text(header: str = HEADER, summary: str = SUMMARY) -> str:
    return f"{header}\nCLINICAL CASE SUMMARY\n{summary}\n{ITEMS}\n"


def letter_lines(text: str | None = None) -> list[str]:
    """The letter as PDF text lines, long lines broken (a page shows each line as it is)."""
    return [piece for line in (text or letter_text()).splitlines() for piece in re.findall(r".{1,90}(?:\s|$)|\S+", line)]


def written(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def encrypted(data: bytes, **options) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(**options)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def refused(tmp_path, letter, *words, seconds: float = 60):
    case = tmp_path / "case.ttl"
    started = time.monotonic()
    one_line_error(run("import-letter", letter, "-o", case, timeout=300), str(letter), *words)
    assert time.monotonic() - started < seconds
    assert not case.exists()


def test_the_control_pdf_imports(tmp_path):
    letter = written(tmp_path, "letter.pdf", encrypted(pdf([text_stream(letter_lines())], compressed=True),
                                                        user_password="", owner_password="owner", algorithm="AES-128"))
    result = run("import-letter", letter, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "gr:PhysicalTherapy" in result.stdout and '"2016-10-25"^^xsd:date' in result.stdout


PLAIN = pdf([text_stream(letter_lines())])


@pytest.mark.parametrize("name, data, words", [
    ("password.pdf", lambda: encrypted(PLAIN, user_password="secret", owner_password="owner", algorithm="AES-256"),
     ["encrypted PDF that needs a password"]),
    # an encryption handler other than the standard one, and a version pypdf does not know
    ("handler.pdf", lambda: encrypted(PLAIN, user_password="", algorithm="AES-128").replace(b"/Standard", b"/FooBarXY"),
     ["encrypted PDF in a scheme that cannot be read", "Standard"]),
    ("version.pdf", lambda: encrypted(PLAIN, user_password="", algorithm="AES-128").replace(b"/V 4", b"/V 9", 1),
     ["encrypted PDF in a scheme that cannot be read", "V=9"]),
])
def test_encryption_that_cannot_be_opened(tmp_path, name, data, words):
    refused(tmp_path, written(tmp_path, name, data()), *words)


def test_objects_nested_past_the_stack(tmp_path):
    # in a content stream (a RecursionError once), and in the page dictionary
    deep_array = text_stream(letter_lines()) + b" " + b"[" * 100_000 + b"]" * 100_000 + b" pop"
    refused(tmp_path, written(tmp_path, "array.pdf", pdf([deep_array])), "damaged PDF", "nested too deeply")
    deep_dict = pdf([text_stream(letter_lines())], page_extra=b"/Nest " + b"<< /A " * 50_000 + b">>" * 50_000)
    refused(tmp_path, written(tmp_path, "dict.pdf", deep_dict), "damaged PDF")


def test_flate_bombs(tmp_path):
    # past pypdf's own 75 MB limit (a LimitReachedError traceback once), and under it but far past a page
    refused(tmp_path, written(tmp_path, "bomb.pdf", pdf([text_stream(letter_lines())], streams=[flate_bomb(200 << 20)])),
            "inflates past pypdf's limit")
    refused(tmp_path, written(tmp_path, "page.pdf", pdf([text_stream(letter_lines())], streams=[flate_bomb(60 << 20)])),
            "page 2 inflates to over 2 MB of drawing instructions")


def test_forms_drawn_over_and_over(tmp_path):
    """A 1 MB form drawn 5,000 times took over five minutes; 100,000 draws of a small one 17 s."""
    resources = b"<< /Font << /F1 3 0 R >> /XObject << /X1 100 0 R >> >>"
    form = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
    big = flate_bomb(1 << 20, b"(bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb) Tj ").replace(b"<< /Length", b"<< " + form + b" /Length")
    refused(tmp_path, written(tmp_path, "big.pdf", pdf([text_stream(letter_lines()) + b" /X1 Do" * 5000],
                                                      extra={100: big}, resources=resources)),
            "page 1 inflates to over 2 MB")
    small = stream_object(b"(cc) Tj", form)
    refused(tmp_path, written(tmp_path, "many.pdf", pdf([text_stream(letter_lines()) + b" /X1 Do" * 100_000],
                                                       extra={100: small}, resources=resources)),
            "page 1 draws forms over 1000 times")


def test_too_many_pages_or_characters(tmp_path):
    refused(tmp_path, written(tmp_path, "pages.pdf", pdf([text_stream(letter_lines())] * 51)),
            "PDF of 51 pages; a letter has at most 50")
    # 1.9 MB of text drawing on each of a few pages: under the drawing bound, past the text one
    text_page = flate_bomb(1_900_000, b"(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) Tj ")
    refused(tmp_path, written(tmp_path, "text.pdf", pdf([text_stream(letter_lines())], streams=[text_page] * 5)),
            "PDF text runs past 200,000 characters")
    long_letter = tmp_path / "long.txt"
    long_letter.write_text(letter_text(summary=SUMMARY + " Pain persists." * 20_000))
    refused(tmp_path, long_letter, "characters; a letter has at most 200,000")


def test_a_summary_past_what_medspacy_reads_in_seconds(tmp_path):
    letter = tmp_path / "summary.txt"
    letter.write_text(letter_text(summary=SUMMARY + " The pain persists." * 6000))
    refused(tmp_path, letter, "CLINICAL CASE SUMMARY of", "a summary has at most 100,000")


@pytest.mark.parametrize("header, words", [
    (HEADER.replace("10/25/2016", "99/99/9999"), ["header 'Date of Injury: 99/99/9999': no such day"]),
    (HEADER.replace("10/25/2016", "02/30/2016"), ["header 'Date of Injury: 02/30/2016': no such day"]),
    (HEADER.replace("01/09/2017", "13/09/2017"), ["header 'UR Denial Date: 13/09/2017': no such day"]),
    (HEADER.replace("02/24/2017", "00/00/0000"), ["header 'Decision Date: 00/00/0000': no such day"]),
])
def test_a_header_date_that_is_no_day(tmp_path, header, words):
    """99/99/9999 reached date.fromisoformat (a ValueError traceback) or the case file as an
    ill-typed xsd:date."""
    letter = tmp_path / "letter.txt"
    letter.write_text(letter_text(header=header))
    refused(tmp_path, letter, *words)
    pdf_letter = written(tmp_path, "letter.pdf", pdf([text_stream(letter_lines(letter_text(header=header)))]))
    refused(tmp_path, pdf_letter, *words)


@pytest.mark.parametrize("summary_date", ["February 30, 2017", "Smarch 9, 2017", "13-45-17", "01/09/1017"])
def test_a_summary_date_that_is_no_day_is_not_read(tmp_path, summary_date):
    """Dates in the summary are read from prose: one that is no day is no fact (the review
    date "Smarch 9, 2017" ended in a traceback), and the header's dates stand."""
    letter = tmp_path / "letter.txt"
    header = HEADER.replace(" UR Denial Date: 01/09/2017", "").replace(" Date of Injury: 10/25/2016", "")
    summary = SUMMARY.replace("January 9, 2017", summary_date).replace(
        "an industrial injury.", f"an industrial injury date of {summary_date}.")
    letter.write_text(letter_text(header=header, summary=summary))
    result = run("import-letter", letter, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "gr:injuryDate" not in result.stdout
    assert re.findall(r'gr:requestDate "([^"]*)"', result.stdout) == ["2017-02-24"]  # the decision date
