"""Text from a letter file: plain text (UTF-8, or Latin-1 as a fallback) or a PDF read with
pypdf. A file that yields no usable text raises LetterError with the reason."""

from __future__ import annotations

import re
import stat
from pathlib import Path


class LetterError(Exception):
    """A letter that cannot be read; the message names the reason, the caller the file."""


MAX_BYTES = 20 * 1024 * 1024
MAX_CHARACTERS = 200_000


def read_letter_text(path: Path) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise LetterError("file not found") from None
    if not stat.S_ISREG(info.st_mode):  # a directory, pipe or device would fail or block
        raise LetterError("not a regular file (a directory, pipe or device); give a letter file")
    size = info.st_size
    if size == 0:
        raise LetterError("file is empty")
    if size > MAX_BYTES:
        raise LetterError(f"file is {size // 2**20} MB; a letter is at most {MAX_BYTES // 2**20} MB")
    raw = path.read_bytes()
    if raw.startswith(b"%PDF"):
        return _pdf_text(path)
    if path.suffix.lower() == ".pdf":
        raise LetterError("named .pdf but is not a PDF")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if len(text) > MAX_CHARACTERS:
        raise LetterError(f"{len(text):,} characters; a letter has at most {MAX_CHARACTERS:,}")
    return text


# Real letters are two to six pages, some 20 kB of drawing instructions and 6,000
# characters a page, 27,000 characters at most. The bounds are far above that and far
# below what would take minutes or gigabytes: a page of a Flate bomb is refused once
# inflated past MAX_PAGE_DRAWING (pypdf itself stops any stream at 75 MB), and no reading
# goes on past MAX_PAGES or MAX_CHARACTERS (medspaCy reads some 6,000 characters a second).
MAX_PAGES = 50
MAX_PAGE_DRAWING = 2 * 2**20


def _pdf_text(path: Path) -> str:
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = _opened(path)
        if len(reader.pages) > MAX_PAGES:
            raise LetterError(f"PDF of {len(reader.pages)} pages; a letter has at most {MAX_PAGES}")
        texts, characters = [], 0
        for number, page in enumerate(reader.pages, start=1):
            _check_drawing(page, number)
            texts.append(page.extract_text() or "")
            characters += len(texts[-1])
            if characters > MAX_CHARACTERS:
                raise LetterError(f"PDF text runs past {MAX_CHARACTERS:,} characters by page {number}; "
                                  "a letter has far fewer")
    except LimitReachedError:
        raise LetterError("PDF stream inflates past pypdf's limit (a decompression bomb?)") from None
    except RecursionError:
        raise LetterError("damaged PDF (objects nested too deeply)") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        # pypdf reports a damaged file with any of these
        raise LetterError(f"damaged PDF ({_first_line(exc)})") from None
    text = "\n".join(texts)
    if len(text.strip()) < 50:
        raise LetterError("PDF has no text layer (a scanned image?)")
    return text


def _opened(path: Path):
    """A PdfReader ready to read: not encrypted, or encrypted with an empty user password
    (as real IMR letters are) in a scheme pypdf can decrypt."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LetterError("encrypted PDF that needs a password; give the letter without one")
    except NotImplementedError as exc:  # an encryption handler or version pypdf does not have
        raise LetterError(f"encrypted PDF in a scheme that cannot be read ({_first_line(exc)})") from None
    except (DependencyError, FileNotDecryptedError) as exc:
        raise LetterError(f"encrypted PDF that cannot be opened ({_first_line(exc)})") from None
    return reader


DRAW_FORM = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do\b")  # "/Name Do" draws the form XObject of that name
MAX_DRAWS = 1000
MAX_FORM_DEPTH = 10


def _check_drawing(page, number: int) -> None:
    """Refuse a page whose drawing instructions, with every form drawn as many times as it
    is drawn, inflate past MAX_PAGE_DRAWING: text extraction runs each drawing of a form (a
    1 MB form drawn 5,000 times took minutes)."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    drawing = _Drawing(number)
    drawing.add(len(data))
    drawing.forms(data, page.get("/Resources"), depth=0)


class _Drawing:
    def __init__(self, page: int):
        self.page, self.size, self.draws = page, 0, 0

    def add(self, size: int) -> None:
        self.size += size
        if self.size > MAX_PAGE_DRAWING:
            raise LetterError(f"page {self.page} inflates to over {MAX_PAGE_DRAWING // 2**20} MB of drawing instructions "
                              "(a decompression bomb?); a letter page holds some kilobytes")

    def forms(self, data: bytes, resources, depth: int) -> None:
        named = _form_xobjects(resources)
        for found in DRAW_FORM.finditer(data):
            form = named.get("/" + found.group(1).decode("latin-1"))
            if form is None:
                continue
            self.draws += 1
            if self.draws > MAX_DRAWS or depth >= MAX_FORM_DEPTH:
                raise LetterError(f"page {self.page} draws forms over {MAX_DRAWS} times or {MAX_FORM_DEPTH} deep; "
                                  "a letter page draws a few")
            inner = form.get_data()
            self.add(len(inner))
            self.forms(inner, form.get("/Resources"), depth + 1)


def _form_xobjects(resources) -> dict:
    """The resources' form XObjects by name (images are not drawn by text extraction)."""
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not hasattr(xobjects, "items"):
        return {}
    return {str(name): form for name, value in xobjects.items()
            if hasattr(form := value.get_object(), "get_data") and form.get("/Subtype") == "/Form"}


def _first_line(exc: Exception) -> str:
    return " ".join((str(exc).strip() or type(exc).__name__).split())[:200]
