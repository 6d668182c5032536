"""Small PDFs written byte by byte for the tests, so hostile ones need no committed binaries:
text pages in Helvetica, with any extra objects or stream filters a test wants."""

from __future__ import annotations

import zlib


def text_stream(lines: list[str]) -> bytes:
    """A page's content: each line shown 14 points below the one before."""
    shown = b"".join(b"(" + _escaped(line) + b") Tj T* " for line in lines)
    return b"BT /F1 10 Tf 14 TL 40 800 Td " + shown + b"ET"


def _escaped(text: str) -> bytes:
    return text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf(pages: list[bytes], *, compressed: bool = False, extra: dict[int, bytes] | None = None,
        trailer_extra: bytes = b"", page_extra: bytes = b"", streams: list[bytes] = (),
        resources: bytes = b"<< /Font << /F1 3 0 R >> >>") -> bytes:
    """A PDF whose pages draw `pages` (content streams; Flate-compressed when asked), then
    one page for each of `streams` (stream objects as they are, flate_bomb's for one).
    `extra` adds numbered objects (numbers from 100), `trailer_extra` and `page_extra` add
    entries to the trailer and to every page dictionary, `resources` is every page's
    resource dictionary (font /F1 is object 3)."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for n, content in enumerate([*pages, *streams]):
        page, stream = 10 + 2 * n, 11 + 2 * n
        kids.append(f"{page} 0 R".encode())
        objects[page] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources " + resources + b" "
                         + page_extra + f" /Contents {stream} 0 R >>".encode())
        if n >= len(pages):
            objects[stream] = content
        else:
            objects[stream] = flate_stream(content) if compressed else stream_object(content)
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + f"] /Count {len(kids)} >>".encode()
    objects.update(extra or {})
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += (f"{offsets[number]:010d} 00000 n \n" if number in offsets else "0000000000 65535 f \n").encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R ".encode() + trailer_extra + f" >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def stream_object(data: bytes, entries: bytes = b"") -> bytes:
    return f"<< /Length {len(data)} ".encode() + entries + b" >>\nstream\n" + data + b"\nendstream"


def flate_stream(data: bytes) -> bytes:
    return stream_object(zlib.compress(data, 9), b"/Filter /FlateDecode")


def flate_bomb(size: int, fill: bytes = b" ") -> bytes:
    """A FlateDecode stream object of a few hundred kilobytes that inflates to `size` bytes
    of `fill`, compressed in chunks so the test never holds it inflated."""
    packer = zlib.compressobj(9)
    chunk = fill * max(1, (1 << 20) // len(fill))
    packed = b"".join(packer.compress(chunk) for _ in range(max(1, size // len(chunk)))) + packer.flush()
    return stream_object(packed, b"/Filter /FlateDecode")
