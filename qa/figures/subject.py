"""What a topic names, and whether a figure's own words are about it.

"the Palantir contract" has a subject ("palantir") and a kind word ("contract", which asks for
money); "number of homes without electricity" has the subject "homes electricity" and a filler
("number"). Rules, so a reader need not reverse-engineer them:
- An article is about a topic when its text (title and sections published by `as_of`) holds
  every subject term (stemmed); otherwise no figure of it counts ("Microsoft contract" in a story
  that never names Microsoft).
- A figure counts for the topic when the clause stating it names a subject term: the stretch of
  its sentence between commas, semicolons, dashes, colons, brackets and "while"/"whereas"/"but".
  "Palantir's ImmigrationOS ..., contributing to a budget of nearly $29 billion" names Palantir,
  but not in the clause holding the figure.
- When the article's title names the whole subject (the story is about it), a figure counts when
  its sentence or heading holds one of the topic's kind words ("budget", "contract", "cost").
- A topic that names its owner ("Orbis Data staff count", "Corvane's cleanup budget": its
  capitalised words) is about that owner's figures: one counts only when its clause names the
  owner too, or the article's title does, and (in the clause) what of the owner's the topic
  asks about, when it says: "... Veridian Pay ... a support office with 30 staff" names staff,
  but not Orbis Data's; "Orbis Data will run the website for $4.6 million" names no staff.
- A kind word for money ("budget", "contract", "cost", "deal") admits only amounts of money, one
  for shares ("percent", "rate") only percentages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text import analyze

MONEY_TERMS = frozenset(analyze(
    "cost costs budget price funding fund spend spending contract worth fee fine deal salary "
    "revenue money pay payment grant loan bill expense investment allocation dollars"))
PERCENT_TERMS = frozenset(analyze("percent percentage share proportion rate"))
# Words that say "a figure" without saying what of: left out of what a topic must name.
FILLER_TERMS = frozenset(analyze(
    "number numbers figure figures total totals amount amounts count counts level levels value "
    "values tally size sum latest new current reported expected estimated story coverage"))
_CLAUSE_BREAK = re.compile(r",\s|;\s|:\s|\s[—–-]\s|—|–(?![\d$€£])|[()]"
                           r"|\b(?:while|whereas|but)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")
_JOIN = re.compile(r"\b(?:and|or|plus|as well as)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    """A topic's terms: `subject` must be named, `kind_words` say what kind of figure it is."""

    text: str
    terms: frozenset[str]
    subject: frozenset[str]
    kind_words: frozenset[str]
    owner: frozenset[str] = frozenset()  # the subject terms the topic capitalised (a name)

    @property
    def kind(self) -> str | None:
        """'money' or 'percent' when a kind word asks for one; None admits any figure."""
        if self.kind_words & MONEY_TERMS:
            return "money"
        return "percent" if self.kind_words & PERCENT_TERMS else None

    def covered_by(self, terms: set[str]) -> bool:
        """Whether a text holding `terms` names the whole subject (every term, if no subject)."""
        return (self.subject or self.terms) <= terms

    def admits_kind(self, kind: str) -> bool:
        return self.kind is None or self.kind == kind


def named_words(text: str) -> str:
    """The words `text` capitalises as a name ("Acme Pay": not a payment). Its first word is
    capitalised anyway, so it counts only when a capitalised word follows it or it is possessive:
    "Staff count at Orbis Data" names Orbis Data, not staff; "Orbis Data staff" names both."""
    found = list(_CAPITALISED.finditer(text))
    if found and not text[:found[0].start()].strip(" \"'“‘("):
        first = found[0]
        followed = len(found) > 1 and not text[first.end():found[1].start()].strip()
        if not followed and not re.search(r"['’]s$", first.group()):
            found = found[1:]
    return " ".join(m.group() for m in found)


# Words that end a topic's noun phrase: what follows says where, of whom or when.
_PHRASE_END = re.compile(
    r"\b(?:of|in|at|on|for|from|with|without|to|by|over|during|across|after|before|since|near"
    r"|between|among|under|into|about|per|that|which|who|when|where|as|throughout)\b",
    re.IGNORECASE)


def head_term(text: str) -> str | None:
    """The term a topic's first noun phrase ends on, the thing it asks a figure of: "crest" of
    "Marrow river crest", "toll" of "death toll in Veltra", "policy" of "ICE's deportation
    policy" (stemmed, as `analyze` gives it); None when it has no word."""
    m = _PHRASE_END.search(text)
    terms = analyze(text[:m.start()] if m else text) or analyze(text)
    return terms[-1] if terms else None


def topic_of(text: str) -> Topic:
    terms = frozenset(analyze(text))
    named = frozenset(analyze(named_words(text)))
    kind_words = terms & (MONEY_TERMS | PERCENT_TERMS) - named
    subject = terms - kind_words - FILLER_TERMS
    return Topic(text, terms, subject, kind_words, named & subject)


def clause_at(sentence: str, offset: int, others: Sequence[int] = ()) -> str:
    """The clause of `sentence` holding the character at `offset`. `others` are the offsets of
    the sentence's other figures: "a $3.75 million contract with Clearview and a $30 million
    Palantir contract" is cut at the "and" between two figures."""
    start, end = 0, len(sentence)
    for m in _CLAUSE_BREAK.finditer(sentence):
        if m.end() <= offset:
            start = m.end()
        elif m.start() > offset:
            end = m.start()
            break
    for other in others:
        if start <= other < offset:
            cuts = [m.end() for m in _JOIN.finditer(sentence, other, offset)]
            start = max([start, *cuts])
        elif offset < other < end:
            cut = _JOIN.search(sentence, offset, other)
            end = cut.start() if cut else end
    return sentence[start:end]


def names_subject(topic: Topic, clause: str) -> bool:
    """Whether `clause` names a subject term of the topic (a kind word when it has no subject)."""
    return bool(set(analyze(clause)) & (topic.subject or topic.kind_words or topic.terms))


def figure_is_about(topic: Topic, kind: str, sentence: str, offset: int, heading: str | None,
                    title_terms: set[str], others: Sequence[int] = ()) -> bool:
    """Whether the figure of kind `kind` at `offset` of `sentence` counts for `topic`; `others`
    are the offsets of the sentence's other figures."""
    if not topic.admits_kind(kind):
        return False
    clause = set(analyze(clause_at(sentence, offset, others)))
    if topic.owner:
        if not topic.owner & clause and not topic.owner <= title_terms:
            return False  # another's figure: "Orbis Data staff" is not Veridian Pay's 30 staff
        what = topic.subject - topic.owner  # "staff" of "Orbis Data staff count"
        if what & clause or (not what and topic.owner & clause):
            return True
    elif names_subject(topic, clause_at(sentence, offset, others)):
        return True
    if topic.subject and topic.subject <= title_terms:
        words = set(analyze(f"{sentence}\n{heading or ''}"))
        return bool(words & topic.kind_words) if topic.kind_words else True
    return False
