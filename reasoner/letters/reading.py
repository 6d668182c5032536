"""Text from a letter file: plain text (UTF-8, or Latin-1 as a fallback) or a PDF read with
pypdf. A file that yields no usable text raises LetterError with the reason."""

from __future__ import annotations

import stat
from pathlib import Path


class LetterError(Exception):
    """A letter that cannot be read; the message names the reason, the caller the file."""


MAX_BYTES = 20 * 1024 * 1024


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
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise LetterError("encrypted PDF (a password is needed)")
            except Exception as exc:  # pypdf raises several types for unsupported encryption
                raise LetterError(f"encrypted PDF that cannot be opened ({exc})") from None
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except LetterError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise LetterError(f"damaged PDF ({exc})") from None
    if len(text.strip()) < 50:
        raise LetterError("PDF has no text layer (a scanned image?)")
    return text
