"""Streaming Big5 XML: cp950 decoded incrementally and fed to expat, with NHIA-style positions.

FORMATS §1.1 E2/E3 and §6.2: expat cannot read Big5 bytes, so bytes are decoded
with cp950 (Big5 plus the Microsoft additions HIS software writes) and fed as
str. Memory stays flat: one chunk of text and the current record at a time.
DOCTYPE and entity declarations are refused outright (FORMATS §1.1 E10), which
also rules out entity expansion attacks before expat sees an entity.
"""

from __future__ import annotations

import codecs
import re
import xml.parsers.expat as expat
from typing import BinaryIO

CHUNK = 1024 * 1024
UDA_ERRORS = "portal-big5-uda"
# Big5 user-defined areas (造字) in the order Microsoft maps them to the Private Use Area.
_UDA_BLOCKS = ((0xFA, 0xFE, 0xE000), (0x8E, 0xA0, 0xE311), (0x81, 0x8D, 0xEEB8))
_DECLARATION = re.compile(r"""<\?xml\s+version\s*=\s*["']1\.0["']\s+encoding\s*=\s*["']big5["']""", re.I)


class BadByte(Exception):  # noqa: N818 - carries where decoding failed
    """A byte sequence cp950 cannot decode and that is not a Big5 造字 pair."""

    def __init__(self, data: bytes, start: int):
        super().__init__("undecodable byte")
        self.data = data
        self.start = start


def _uda_char(lead: int, trail: int) -> str | None:
    """The Private Use Area character of a Big5 造字 pair, or None when it is not one."""
    if 0x40 <= trail <= 0x7E:
        offset = trail - 0x40
    elif 0xA1 <= trail <= 0xFE:
        offset = trail - 0x62
    else:
        return None
    for first, last, base in _UDA_BLOCKS:
        if first <= lead <= last:
            return chr(base + (lead - first) * 157 + offset)
    return None


def _uda_or_fail(exc: UnicodeDecodeError):
    """Codec error handler: map a 造字 pair to PUA (the checker decides per field), else stop."""
    data = exc.object
    if exc.start + 1 < len(data):
        char = _uda_char(data[exc.start], data[exc.start + 1])
        if char is not None:
            return char, exc.start + 2
    raise BadByte(bytes(data), exc.start)


codecs.register_error(UDA_ERRORS, _uda_or_fail)


def has_uda(text: str) -> bool:
    """Whether text holds a character mapped from a Big5 造字 pair."""
    return any("\ue000" <= c <= "\uf8ff" for c in text)


class XmlStream:
    """Expat plumbing for one check: subclasses implement start/end/problem hooks.

    Hooks: `start(tag)`, `end(tag, text)` (text = the characters since the element's start tag,
    for leaf fields; `position()` and `start_position()` say where, when a message needs it — asking
    for every element would cost a fifth of the time), and `problem(kind, line, col, detail)` for kinds
    'encoding', 'declaration', 'doctype', 'malformed', 'junk', 'depth', 'text' — which must raise.
    """

    max_depth = 8
    max_text = 64 * 1024

    def __init__(self):
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 64 * 1024
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser = parser
        self.depth = 0
        self._text = ""
        self._lines = 0  # newlines in the text fed before the current chunk
        self._col = 0  # characters after the last of them
        self.bytes_read = 0

    # -- feeding ---------------------------------------------------------------------------------

    def feed(self, stream: BinaryIO, chunk: int = CHUNK) -> None:
        """Decode and parse the whole stream (hooks raise to stop early)."""
        decoder = codecs.getincrementaldecoder("cp950")(errors=UDA_ERRORS)
        head = ""  # the first characters, held until the declaration can be judged
        while True:
            data = stream.read(chunk)
            final = not data
            self.bytes_read += len(data)
            try:
                text = decoder.decode(data, final)
            except BadByte as bad:
                self._bad_byte(bad)
            if head is not None:
                head += text
                if len(head) < 64 and not final:
                    continue
                text, head = head, None
                if not _DECLARATION.match(text):
                    self.problem("declaration", 1, 1, "")
            try:
                self.parser.Parse(text, final)
            except expat.ExpatError as exc:
                kind = "junk" if exc.code == expat.errors.codes[expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT] \
                    else "malformed"
                self.problem(kind, exc.lineno, exc.offset + 1, expat.errors.messages[exc.code])
            newlines = text.count("\n")
            if newlines:
                self._lines += newlines
                self._col = len(text) - text.rfind("\n") - 1
            else:
                self._col += len(text)
            if final:
                return

    def _bad_byte(self, bad: BadByte) -> None:
        """Report the line and character where decoding failed."""
        before = bad.data[:bad.start].decode("cp950", errors=UDA_ERRORS)
        newlines = before.count("\n")
        if newlines:
            line, col = self._lines + newlines + 1, len(before) - before.rfind("\n")
        else:
            line, col = self._lines + 1, self._col + len(before) + 1
        self.problem("encoding", line, col, "")

    def position(self) -> tuple[int, int]:
        """Where expat is now: 1-based line and character."""
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    # -- expat handlers ----------------------------------------------------------------------------

    def _start(self, tag, attrs):
        self.depth += 1
        if self.depth > self.max_depth:
            self.problem("depth", *self.position(), tag)
        self._text = ""
        self.start(tag)

    def _end(self, tag):
        self.depth -= 1
        text, self._text = self._text, ""
        self.end(tag, text)

    def _chars(self, data):
        # buffer_text hands a leaf's text over in one piece (at most buffer_size = max_text
        # characters), except past a buffer boundary: only a joined text can be too long
        if self._text:
            self._text += data
            if len(self._text) > self.max_text:
                self.problem("text", *self.position(), "")
        else:
            self._text = data

    def start_position(self, tag: str, text: str) -> tuple[int, int]:
        """Where the start tag of the element now closing stood (during `end`): line and character."""
        line, col = self.position()
        if "\n" in text:
            return line, 1
        return line, max(1, col - len(text) - len(tag) - 2)

    def _doctype(self, *args):
        self.problem("doctype", *self.position(), "")

    def _entity(self, *args):
        self.problem("doctype", *self.position(), "")

    # -- hooks -------------------------------------------------------------------------------------

    def start(self, tag: str) -> None:  # pragma: no cover - abstract
        """An element opens."""
        raise NotImplementedError

    def end(self, tag: str, text: str) -> None:  # pragma: no cover - abstract
        """An element closes."""
        raise NotImplementedError

    def problem(self, kind: str, line: int, col: int, detail: str) -> None:  # pragma: no cover - abstract
        """The file cannot be read further; must raise."""
        raise NotImplementedError
