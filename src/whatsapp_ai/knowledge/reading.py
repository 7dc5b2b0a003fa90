"""Reading files into passages: the allowed types, text out of plain text, Markdown (headings
kept) and PDF (pages kept), and the cut into passages of a few paragraphs between sentences."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import pypdf

from whatsapp_ai.knowledge.errors import (
    InvalidDocumentError,
    UnreadableError,
    UnsupportedTypeError,
)

TEXT = "text/plain"
MARKDOWN = "text/markdown"
PDF = "application/pdf"
CONTENT_TYPES = (TEXT, MARKDOWN, PDF)
CHUNK_MIN = 500
CHUNK_MAX = 800
TITLE_MAX = 200
FILENAME_MAX = 255
HEADING_MAX = 300
# What ends a sentence or a clause.
TERMINAL = ".!?:;…"


@dataclass(frozen=True)
class Section:
    """Paragraphs under one heading on one page."""

    heading: str | None
    page: int | None
    paragraphs: list[str]


@dataclass(frozen=True)
class Passage:
    """A chunk of a document before it is stored."""

    text: str
    page: int | None = None
    heading: str | None = None


_EXTENSIONS = {".txt": TEXT, ".text": TEXT, ".md": MARKDOWN, ".markdown": MARKDOWN, ".pdf": PDF}
_ALIASES = {"text/x-markdown": MARKDOWN, "text/md": MARKDOWN, "application/x-pdf": PDF}
_GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def content_type_of(declared: str | None, filename: str, data: bytes = b"") -> str:
    """The allowed type of an upload, from what the client declared, the file's extension
    (when the client declared nothing useful) and the PDF signature."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    base = _ALIASES.get(base, base)
    guessed = _EXTENSIONS.get(PurePosixPath(filename.lower()).suffix)
    if base in _GENERIC:
        base = PDF if _is_pdf(data) else (guessed or base)
    if base == TEXT and guessed == MARKDOWN:
        base = MARKDOWN  # many clients send .md files as text/plain
    if base not in CONTENT_TYPES:
        raise UnsupportedTypeError(
            f"unsupported file type {(declared or 'unknown')!r}: upload text/plain (.txt), "
            "text/markdown (.md) or application/pdf (.pdf)"
        )
    if base == PDF and data and not _is_pdf(data):
        raise InvalidDocumentError("not a PDF file (no %PDF- signature)", field="file")
    return base


def clean_filename(filename: str | None) -> str:
    """The file's own name, without the folders some clients send."""
    name = re.split(r"[\\/]", (filename or "").strip())[-1].strip()
    return name[:FILENAME_MAX] or "document"


def clean_title(title: str | None) -> str | None:
    """A given title on one line; None when empty (the document then names itself)."""
    if title is None:
        return None
    text = " ".join(title.split())
    if len(text) > TITLE_MAX:
        raise InvalidDocumentError(f"at most {TITLE_MAX} characters", field="title")
    return text or None


_BULLET = re.compile(r"^(?:[-*+•–]|\d{1,3}[.)])\s")


def _flow(lines: list[str]) -> str:
    """Lines of a paragraph as text: wrapped lines joined (hyphenation undone), list items
    and lines after a full stop kept on their own line."""
    text = ""
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        if not text:
            text = line
        elif text.endswith("-") and text[-2:-1].isalpha() and line[:1].islower():
            text = text[:-1] + line
        elif (
            _BULLET.match(line)
            or text.endswith(tuple(TERMINAL))
            or (line[:1].isupper() and len(text.rsplit("\n", 1)[-1]) < 60)
        ):
            text += "\n" + line
        else:
            text += " " + line
    return text


def _paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n[ \t]*\n", text)
    return [p for p in (_flow(block.split("\n")) for block in blocks) if p]


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=|-)\1*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_QUOTE = re.compile(r"^[ \t]*>[ \t]?")


def _inline(line: str) -> str:
    """A Markdown line as plain text (links keep their address: it may be the answer)."""
    line = _QUOTE.sub("", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(lambda m: m[1] if m[1] == m[2] else f"{m[1]} ({m[2]})", line)
    line = _TAG.sub("", line)
    for _ in range(2):  # **_nested_** emphasis
        line = _EMPHASIS.sub(r"\2", line)
    return line


def _markdown(text: str) -> tuple[list[Section], str | None]:
    """Sections under each heading (the heading path, "Guide › Delivery"), and the first
    top-level heading (a title when none is given)."""
    sections: list[Section] = []
    headings: list[tuple[int, str]] = []
    lines: list[str] = []
    first_title: str | None = None
    fenced = False

    def close() -> None:
        paragraphs = _paragraphs("\n".join(lines))
        if paragraphs:
            path = " › ".join(name for _, name in headings)[:HEADING_MAX] or None
            sections.append(Section(heading=path, page=None, paragraphs=paragraphs))
        lines.clear()

    def open_heading(level: int, raw: str) -> None:
        nonlocal first_title
        close()
        name = " ".join(_inline(raw).split())
        while headings and headings[-1][0] >= level:
            headings.pop()
        if name:
            headings.append((level, name))
            if level == 1 and first_title is None:
                first_title = name[:TITLE_MAX]

    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
            lines.append("")
            continue
        if fenced:
            lines.append(line)
            continue
        heading = _ATX.match(line)
        if heading:
            open_heading(len(heading[1]), heading[2] or "")
            continue
        underline = _SETEXT.match(line)
        if underline and lines and lines[-1].strip():
            # "Title\n=====" and "Section\n-------": the line above is the heading.
            above = lines.pop()
            open_heading(1 if underline[1] == "=" else 2, above)
            continue
        if _RULE.match(line) or _TABLE_RULE.match(line):
            lines.append("")
            continue
        lines.append(_inline(line))
    close()
    return sections, first_title


def _pdf(data: bytes) -> list[Section]:
    """One section per page that has text."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableError("the PDF is protected by a password")
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            paragraphs = _paragraphs(_normalise(page.extract_text() or ""))
            if paragraphs:
                sections.append(Section(heading=None, page=number, paragraphs=paragraphs))
    except UnreadableError:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise UnreadableError(f"the PDF could not be read ({type(exc).__name__})") from exc
    if not sections:
        raise UnreadableError(
            "no text could be extracted from the PDF (a scanned document needs OCR first)"
        )
    return sections


def _normalise(text: str) -> str:
    # PostgreSQL stores no NUL characters; PDFs and some editors leave them in.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidDocumentError(
            "the text is not UTF-8: save it as UTF-8 and upload it again", field="file"
        ) from None
    if "\x00" in text:
        raise InvalidDocumentError("binary content, not text", field="file")
    return _normalise(text)


def read(content_type: str, data: bytes) -> tuple[list[Passage], str | None]:
    """The passages of a file, and the title it gives itself (blocking: run it in a thread).

    Raises ``UnreadableError`` for a PDF without text and ``InvalidDocumentError`` for text
    that is not UTF-8.
    """
    title: str | None = None
    if content_type == PDF:
        sections = _pdf(data)
    elif content_type == MARKDOWN:
        sections, title = _markdown(_decode(data))
    else:
        paragraphs = _paragraphs(_decode(data))
        sections = [Section(heading=None, page=None, paragraphs=paragraphs)] if paragraphs else []
    return split(sections), title


# --- chunking -------------------------------------------------------------------------------

# A full stop after these ends no sentence ("Av. Brasil", "p. 3").
_ABBREVIATION_WORDS = """
    sr sra srs dr dra prof profa av r p pg pag pág ex obs tel n nº no mr mrs ms st vs etc
    aprox approx min max máx ltda cia inc jr e.g i.e
    """
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+(?=[\"'“‘«(\[¿¡]?[A-ZÀ-ÖØ-Þ0-9])")


def sentences(text: str) -> list[str]:
    """The sentences of a text (each line on its own, then split after . ! ? …)."""
    found: list[str] = []
    for line in text.split("\n"):
        start = 0
        for boundary in _BOUNDARY.finditer(line):
            before = line[start : boundary.start()].rsplit(" ", 1)[-1].lower()
            if before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue
            found.append(line[start : boundary.end()].strip())
            start = boundary.end()
        found.append(line[start:].strip())
    return [sentence for sentence in found if sentence]


def _words(text: str, limit: int = CHUNK_MAX) -> list[str]:
    """A text longer than ``limit`` cut between words (or anywhere, in a run with no spaces)."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _pack(units: list[str], joiner: str) -> list[str]:
    """Units joined into pieces of ``CHUNK_MIN`` to ``CHUNK_MAX`` characters where they can be."""
    packed: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        if current and (size >= CHUNK_MIN or size + len(joiner) + len(unit) > CHUNK_MAX):
            packed.append(joiner.join(current))
            current, size = [], 0
        size += (len(joiner) if current else 0) + len(unit)
        current.append(unit)
    if current:
        packed.append(joiner.join(current))
    return packed


def _split_long(text: str) -> list[str]:
    """A paragraph over ``CHUNK_MAX`` as pieces: by line, then by sentence, then by word."""
    lines = text.split("\n")
    if len(lines) > 1:
        units: list[str] = []
        for line in lines:
            units.extend([line] if len(line) <= CHUNK_MAX else _split_long(line))
        return _pack(units, "\n")
    parts = sentences(text)
    if len(parts) > 1:
        units = []
        for part in parts:
            units.extend([part] if len(part) <= CHUNK_MAX else _words(part))
        return _pack(units, " ")
    return _words(text)


def split(sections: Sequence[Section]) -> list[Passage]:
    """Passages of about ``CHUNK_MIN``–``CHUNK_MAX`` characters, cut between paragraphs or
    sentences; a passage never spans two headings or two pages."""
    passages: list[Passage] = []
    for section in sections:
        units: list[str] = []
        for paragraph in section.paragraphs:
            units.extend([paragraph] if len(paragraph) <= CHUNK_MAX else _split_long(paragraph))
        passages.extend(
            Passage(text=text, page=section.page, heading=section.heading)
            for text in _pack(units, "\n\n")
        )
    return passages
