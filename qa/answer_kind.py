"""What kind of thing a question asks for, and whether a sentence holds one.

"How many ..." wants a number, "Who ..." a name, "When ..." a time, "Why ..." a cause: a
sentence that holds no such thing is unlikely to be the answer, however many of the
question's words it repeats. The kinds are read from the question's wording only, so they hold
for any story.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["number", "name", "time", "duration", "reason"]

_DURATION_Q = re.compile(r"\bhow long\b", re.IGNORECASE)
_REASON_Q = re.compile(r"\b(?:why|what (?:caused|led to|is behind|was behind))\b", re.IGNORECASE)
_REASON = re.compile(r"\b(?:because|due to|owing to|blamed|after|caused|cause|reason|since|"
                     r"so that|in order to|to reduce|to avoid|to prevent|amid|following|"
                     r"as a result|result of|led to|prompted)\b", re.IGNORECASE)
_NUMBER_Q = re.compile(r"\b(?:how (?:many|much|far|old|big|large|tall|fast|strong|high|"
                       r"deep|often)|what (?:percentage|percent|share|number|amount|price|"
                       r"rate|age|total)|at what (?:price|rate|age))\b", re.IGNORECASE)
_TIME_Q = re.compile(r"\b(?:when|what (?:year|month|day|date|time)|which (?:year|month|day|date)|"
                     r"how long ago|since when|until when)\b", re.IGNORECASE)
_NAME_Q = re.compile(r"\b(?:who|whom|whose|where|which (?:company|firm|country|city|state|team|"
                     r"person|player|man|woman|group|party|agency|organization|organisation|"
                     r"nation|leader|official|politician|actor|actress|singer|band|film|movie|"
                     r"brand|court|club|airline|bank|university|school|network|app|platform)|"
                     r"what (?:company|firm|country|city|state|team|group|party|agency|"
                     r"organization|organisation|nation|brand|film|movie|app|platform))\b",
                     re.IGNORECASE)

_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"dozen|dozens|hundred|hundreds|thousand|thousands|million|billion|"
                     r"trillion|half|quarter|percent)\b", re.IGNORECASE)
_TIME = re.compile(r"\d|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                   r"january|february|march|april|may|june|july|august|september|october|"
                   r"november|december|today|yesterday|tomorrow|tonight|morning|afternoon|"
                   r"evening|noon|midnight|week|month|year|spring|summer|autumn|fall|winter|"
                   r"ago|later|earlier|since|until)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")


def expected_kind(question: str) -> Kind | None:
    """The kind of answer `question` asks for, or None when its wording does not say."""
    if _REASON_Q.search(question):
        return "reason"
    if _DURATION_Q.search(question):
        return "duration"
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _NAME_Q.search(question):
        return "name"
    return None


def holds_kind(sentence: str, kind: Kind | None, question: str) -> bool:
    """Does `sentence` hold something of `kind` (a name the question does not already say)?"""
    if kind is None:
        return True
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind == "duration":  # "for three years", "until Thursday"
        return bool(_NUMBER.search(sentence) or _TIME.search(sentence))
    if kind == "reason":
        return bool(_REASON.search(sentence))
    asked = question.lower()
    return any(m.start() > 0 and m.group(0).lower() not in asked
               for m in _CAPITALISED.finditer(sentence))
