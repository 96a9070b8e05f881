"""Turning text into keyword-index terms: lower-case words, numbers kept whole, English stems."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Words, and numbers with their decimal part ("28.7") or thousands separators ("3,000").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=500_000)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def _normalise(token: str) -> str:
    if token[0].isdigit():
        return token.replace(",", "")
    token = token.replace("’", "'")
    if token.endswith("'s"):
        token = token[:-2]
    return token


def _term(raw: str, stem: bool) -> str | None:
    """The index term of one lower-cased token, or None for a stop word."""
    token = _normalise(raw)
    if not token or token in STOPWORDS:
        return None
    return _stem(token) if stem and not token[0].isdigit() else token


# one look-up per token instead of four calls: analysis is most of building a keyword index
_stemmed_term = lru_cache(maxsize=200_000)(lambda raw: _term(raw, True))


def analyze(text: str, stem: bool = True) -> list[str]:
    """Index terms of `text`, in order: stop words dropped, numbers kept, words stemmed."""
    term = _stemmed_term if stem else (lambda raw: _term(raw, False))
    return [t for t in map(term, _TOKEN.findall(text.lower())) if t is not None]
