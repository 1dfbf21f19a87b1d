"""Small text normalisations for user input."""

from __future__ import annotations

# Full-width ASCII (Ａ–Ｚ, ０–９, ！ … ～: U+FF01–U+FF5E) and the ideographic space, as IMEs type them.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_fullwidth(text: str) -> str:
    """Full-width ASCII to ASCII; everything else (superscripts, circled digits …) is left alone."""
    return (text or "").translate(_FULLWIDTH)
