"""Substring search over CJK text with an ordinary full-text index.

Users type fragments of Chinese (2-character words are common), codes such as
RWM, or phone numbers, and expect substring matches. Full-text tokenizers do
not split Chinese into words, and trigram indexes cannot serve 2-character
queries, so the text is stored a second time as overlapping bigrams
("全民健保" -> "全民 民健 健保"): SQLite FTS5 (unicode61) and PostgreSQL
(to_tsvector('simple')) index those as ordinary words. A query becomes the
bigrams of its runs (a phrase on SQLite, all of them on PostgreSQL), which
narrows the candidates through the index; a LIKE on the normalised text then
keeps exact substring semantics. Queries without a 2-character run (one
character) fall back to LIKE alone.
"""

from __future__ import annotations

import re
import unicodedata

# Runs of letters and digits (CJK ideographs are letters); everything else separates runs.
_RUN = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """What search compares: NFKC (full-width ＲＷＭ is RWM), lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def runs(text: str) -> list[str]:
    """Letter/digit runs of already normalised text."""
    return _RUN.findall(text)


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]


def grams(normalised: str) -> str:
    """The indexed form of a normalised text: each run's overlapping bigrams (a 1-letter run as itself)."""
    return " ".join(" ".join(_bigrams(run)) for run in runs(normalised))


def query_runs(normalised_query: str) -> list[list[str]]:
    """Bigrams of each run of the query that has at least two characters (what the index can narrow by)."""
    return [_bigrams(run) for run in runs(normalised_query) if len(run) > 1]


def fts5_match(normalised_query: str) -> str:
    """An FTS5 MATCH expression (each run a phrase, runs AND-ed); '' when the index cannot help.

    Runs hold only letters and digits, so quoting them as FTS5 strings needs no escaping.
    """
    return " AND ".join('"' + " ".join(bigrams) + '"' for bigrams in query_runs(normalised_query))


def tsquery_text(normalised_query: str) -> str:
    """Words for plainto_tsquery('simple', …): every bigram of the query, all required."""
    return " ".join(gram for bigrams in query_runs(normalised_query) for gram in bigrams)
