"""Small real documents for demo content: PDF, ODT, DOC (RTF) and ZIP, generated, never fetched."""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape

from odf.opendocument import OpenDocumentText
from odf.text import H, P
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

AUTHOR = "衛生福利部中央健康保險署"
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "doc": "application/msword",
    "zip": "application/zip",
}
# A CID font every PDF reader has for Traditional Chinese, so nothing is embedded.
_FONT = "MSung-Light"
pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
_TITLE = ParagraphStyle("title", fontName=_FONT, fontSize=16, leading=24)
_BODY = ParagraphStyle("body", fontName=_FONT, fontSize=11, leading=18, wordWrap="CJK")


def paragraphs(text: str) -> list[str]:
    """Plain paragraphs of a text block (blank lines separate them; HTML tags dropped)."""
    text = re.sub(r"<[^>]+>", "\n", text or "")
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def make(fmt: str, title: str, body: str) -> bytes:
    """A document in the given format (pdf, odt, doc or zip)."""
    return {"pdf": make_pdf, "odt": make_odt, "doc": make_doc, "zip": make_zip}[fmt](title, body)


def make_pdf(title: str, body: str) -> bytes:
    """A one-page A4 PDF with a title and paragraphs (deterministic bytes)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=title, author=AUTHOR, invariant=1)
    flow = [Paragraph(escape(title), _TITLE), Spacer(1, 10)]
    flow += [Paragraph(escape(p), _BODY) for p in paragraphs(body) or [title]]
    doc.build(flow)
    return buffer.getvalue()


def make_odt(title: str, body: str) -> bytes:
    """An OpenDocument text file with a heading and paragraphs."""
    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text=title))
    for p in paragraphs(body) or [title]:
        doc.text.addElement(P(text=p))
    buffer = io.BytesIO()
    doc.write(buffer)
    return buffer.getvalue()


def make_doc(title: str, body: str) -> bytes:
    """An RTF document saved as .doc, which Word and LibreOffice open."""
    def rtf(text: str) -> str:
        return "".join(c if ord(c) < 128 and c not in "\\{}" else f"\\u{_signed16(ord(c))}?" for c in text)

    parts = [r"{\rtf1\ansi\deff0", r"{\fonttbl{\f0 PMingLiU;}}", r"\f0\fs32 " + rtf(title) + r"\par\fs22"]
    parts += [rtf(p) + r"\par" for p in paragraphs(body) or [title]]
    return ("\n".join(parts) + "}").encode("ascii")


def make_zip(title: str, body: str) -> bytes:
    """A ZIP holding the document as PDF and ODT."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{safe_name(title)}.pdf", make_pdf(title, body))
        archive.writestr(f"{safe_name(title)}.odt", make_odt(title, body))
    return buffer.getvalue()


def safe_name(title: str) -> str:
    """A file name from a title: characters Windows forbids are replaced, length bounded."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("._")[:80] or "document"


def _signed16(code: int) -> int:
    """RTF \\u takes a signed 16-bit number."""
    return code - 65536 if code > 32767 else code
