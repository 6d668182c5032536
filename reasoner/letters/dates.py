"""Dates as letters print them, read only when they are calendar dates: "99/99/9999" or
"February 30, 2016" is no date (it used to reach date.fromisoformat and end in a traceback,
or an ill-typed xsd:date in the case file)."""

from __future__ import annotations

import re
from datetime import date


def iso_date(year: int, month: int, day: int) -> str | None:
    """YYYY-MM-DD, or None when there is no such day (or it is before 1900: a misread
    two-digit or three-digit year, not a day any letter speaks of)."""
    if year < 1900:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def us_date(text: str) -> str | None:
    """An ISO date from MM/DD/YYYY; None when the text is not one, or no such day."""
    m = re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})", text or "")
    return iso_date(int(m.group(3)), int(m.group(1)), int(m.group(2))) if m else None
