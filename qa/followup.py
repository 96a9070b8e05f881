"""Resolving a follow-up question from the turns before it, without a language model.

"How much is it worth?" says nothing about which contract. A question is a follow-up only when
it leans on the last turn:

- an ellipsis: it leads with "and"/"what about" ("And in the fire?") or has no content words
  of its own ("When?");
- a pronoun ("it", "their", "that") and no subject of its own;
- almost no words of its own (two content words at most) and no subject of its own.

Its own subject is a name the last turn never mentioned ("Storm Elena" after a question about
a boil-water advisory): such a question is new, whatever pronouns it has ("How strong were
Storm Elena's winds when it came ashore?"). An ellipsis naming a thing the last turn never
mentioned ("What about the storm?") has one too, capitalised or not: it borrows the last
question's words but not its story's names. A time that bounds the coverage ("since 6 PM") is
no word of a question's own: "What changed since 6 PM?" leans on the story the conversation is
on. A follow-up's search query keeps its own words
first and adds, in brackets, the content words of the previous query and the names in the
sentences the previous answer cited:

    "How much is it worth? (firm won Quay Street Bridge contract Harbor City Northwind Engineering)"

The answer's sentences are still chosen by the question's own words (`focus`), from passages
about the names it borrowed (`referents`), so borrowed words steer the search to the right
story without dragging the old answer back. The bracket is the search's, not the reader's: the
widget shows which earlier question a follow-up was read with, never the borrowed words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text import STOPWORDS
from qa.answer import FollowUp
from qa.models import LastAnswer
from qa.question_time import bounds_coverage, find_time_phrases, without_phrases

MAX_CONTEXT_WORDS = 8
MAX_NAMES = 4

# Words that point back at something said before.
_ANAPHORA = frozenset(
    "it its it's they them their theirs those these that this there he she him his her hers "
    "one ones same such former latter".split())
_LEADS = ("and ", "and,", "but ", "so ", "also ", "what about ", "how about ", "then ",
          "what else", "anything else")
# Pronouns that point at a person or an organisation the last answer named ("her concern",
# "their contract"); "it" and "that" point at the topic, which the borrowed words carry.
_PERSONAL = frozenset("they them their theirs he she him his her hers".split())
# Question scaffolding: words that carry no topic of their own.
_FILLER = frozenset(
    "much many long often far tell say said know kind sort please thing things happen happened "
    "happening like get got latest new now anything else also time date".split())
# Capitalised but not names: days and months.
_NOT_NAMES = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december".split())
_WORD = re.compile(r"[^\W_][\w'’$.,-]*[^\W_]|[^\W_]", re.UNICODE)
_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’-]*)*")
_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)[\"“‘(]*$")
# How a question says what it asks for ("Who", "How many"): an ellipsis keeps the last one's.
_WH_LEAD = re.compile(r"^\s*(?:who|whom|whose|when|where|why|(?:what|which|how)(?:\s+\w+)?)\b",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One answered turn: the user's words, what was searched, and the quotes the answer cited."""

    question: str
    query: str
    answer: str = ""
    quotes: tuple[str, ...] = ()
    stories: tuple[str, ...] = ()  # the articles the quotes come from, in the same order


def words(text: str) -> list[str]:
    """Words of `text` as written, with trailing punctuation dropped."""
    return [w.rstrip(".,") for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """The topic-bearing words of `text`, as written, in order, without repeats."""
    seen: set[str] = set()
    out = []
    for word in words(text):
        key = word.lower()
        if key in STOPWORDS or key in _FILLER or key in _ANAPHORA or key in seen or len(key) < 2:
            continue
        seen.add(key)
        out.append(word)
    return out


def untimed(question: str) -> str:
    """`question` without the times that bound the coverage it asks about ("What changed since
    6 PM?" -> "What changed?"): "6 PM" is when, not what, so it is neither a word nor a name
    of its own."""
    phrases = [p for p in find_time_phrases(question) if bounds_coverage(question, p)]
    return without_phrases(question, phrases) if phrases else question


def is_followup(question: str, previous: Turn | None = None) -> bool:
    """True when `question` leans on the last turn: an ellipsis, or a pronoun or almost no
    words of its own, without a subject of its own (a name `previous` never mentioned). The
    times it bounds the coverage by are not words of its own: "What changed since 6 PM?" in a
    conversation asks about the story the conversation is on."""
    question = untimed(question)
    lowered = question.strip().lower()
    own = content_words(question)
    if lowered.startswith(_LEADS) or not own:
        return True
    if previous is not None and new_names(question, previous):
        return False
    if any(w.lower() in _ANAPHORA for w in words(question)):
        return True
    return len(own) <= 2


def _mentioned(previous: Turn) -> str:
    return " ".join((previous.question, previous.query, previous.answer, *previous.quotes)).lower()


def new_names(question: str, previous: Turn) -> list[str]:
    """Names in `question` (not its first word) that the previous turn never mentioned."""
    said = _mentioned(previous)
    question = untimed(question)
    out = []
    for match in _NAME.finditer(question):
        if _SENTENCE_START.search(question[:match.start()]):
            continue
        name = re.sub(r"['’]s$", "", match.group(0))
        if name.lower() not in said and name.lower() not in _NOT_NAMES:
            out.append(name)
    return out


def names_in(text: str) -> list[str]:
    """Capitalised names in `text` ("Northwind Engineering", "Storm Elena"), in order.

    A single capitalised word that opens a sentence ("Officials", "Outages") is not a name; a
    leading "The" is dropped from a longer one ("The Harbor City council" -> "Harbor City").
    """
    out: list[str] = []
    for match in _NAME.finditer(text):
        name = match.group(0)
        at_start = bool(_SENTENCE_START.search(text[:match.start()]))
        parts = name.split()
        if at_start and parts[0].lower() in STOPWORDS:
            parts = parts[1:]
            at_start = False
        if not parts or (at_start and len(parts) == 1):
            continue
        parts = [p for p in parts if p.lower() not in _NOT_NAMES]
        name = " ".join(parts)
        if len(name) > 1 and name.lower() not in STOPWORDS and name not in out:
            out.append(name)
    return out


def _has_own_name(question: str) -> bool:
    return any(not _SENTENCE_START.search(question[:m.start()]) for m in _NAME.finditer(question))


def _without_lead(question: str) -> str:
    lowered = question.strip().lower()
    lead = next((lead for lead in _LEADS if lowered.startswith(lead)), "")
    return lowered[len(lead):]


def is_elliptical(question: str) -> bool:
    """True for a follow-up that leaves its predicate out: "When?", "And in the fire?",
    "What about the depot?" (but not "And what did the district offer?")."""
    if not content_words(question):
        return True
    lowered = question.strip().lower()
    return lowered.startswith(_LEADS) and not _WH.search(_without_lead(lowered))


def has_own_subject(question: str, previous: Turn) -> bool:
    """Whether `question` names a subject of its own: a name ("What about Storm Elena?"), or an
    ellipsis naming a thing `previous` never mentioned ("What about the storm?")."""
    return _has_own_name(untimed(question)) or _new_subject(question, previous)


def borrowed_words(question: str, previous: Turn) -> list[str]:
    """Content words of the previous query that `question` does not already have; when the
    question names its own subject ("What about the storm?"), the previous subject's names are
    left behind."""
    own = {w.lower() for w in content_words(question)}
    own_subject = has_own_subject(question, previous)
    return [w for w in content_words(previous.query)
            if w.lower() not in own and not (own_subject and w[0].isupper())][:MAX_CONTEXT_WORDS]


def borrowed_names(question: str, previous: Turn) -> list[str]:
    """Names in the previous answer's quotes, unless `question` names its own subject."""
    if has_own_subject(question, previous):
        return []
    known = {w.lower() for w in content_words(question) + content_words(previous.query)}
    names: list[str] = []
    for quote in previous.quotes:
        for name in names_in(quote):
            if name not in names and not all(w.lower() in known for w in name.split()):
                names.append(name)
    return names[:MAX_NAMES]


def resolve(question: str, history: Sequence[Turn]) -> str:
    """The search query for `question` given the earlier turns (oldest first): the question
    itself when it stands alone, else the question followed by what it borrows."""
    text = question.strip()
    if not history or not is_followup(text, history[-1]):
        return text
    borrowed = borrowed_words(text, history[-1]) + borrowed_names(text, history[-1])
    if not borrowed:
        return text
    return f"{text} ({' '.join(borrowed)})"


def focus(question: str, history: Sequence[Turn]) -> str:
    """The words an answer's sentences are chosen by: the question's own, plus what it leaves
    out. "And in the fire?" borrows the previous question's words; a question with no words of
    its own ("Who said that?", "When?") also borrows those of the sentence last cited first."""
    text = question.strip()
    if not history or not is_followup(text, history[-1]) or not is_elliptical(text):
        return text
    previous = history[-1]
    extra = borrowed_words(text, previous)
    lead = _WH_LEAD.match(previous.question)
    if lead and not _WH.search(_without_lead(text)):  # "And in the fire?" asks what it asked
        extra.append(lead.group(0).strip())
    if not content_words(text) and previous.quotes:
        extra += [w for w in content_words(previous.quotes[0]) if w not in extra]
    return " ".join([text, *extra])


def new_subject(question: str, previous: Turn) -> list[str]:
    """The words of an ellipsis that name a thing the last turn never mentioned ("What about
    the wildfire?" after a question about the strike: ["wildfire"]), a subject of its own though
    not capitalised; [] for any other question."""
    if not is_elliptical(question):
        return []
    said = {w.lower() for w in words(_mentioned(previous))}
    return [w for w in content_words(_without_lead(question)) if w.lower() not in said]


def _new_subject(question: str, previous: Turn) -> bool:
    return bool(new_subject(question, previous))


def main_story(turn: Turn) -> str | None:
    """The article most of `turn`'s quotes come from (the first quoted on a tie): a padded
    answer's stray sentence from another story does not carry the conversation there."""
    if not turn.stories:
        return None
    return max(turn.stories, key=lambda s: (turn.stories.count(s), -turn.stories.index(s)))


def leaning_on(question: str, history: Sequence[Turn], query: str) -> FollowUp | None:
    """What `question` (searched as `query`) leans on, or None when it stands alone: the names
    its answer's sentences should name (the subject of its own of an ellipsis, "What about the
    storm?"; for "her", "their": the last answer's names; "it" names none), the query whose
    words its evidence is judged by, and, when it names no subject of its own, the story the
    last answer quoted most ("Was anyone hurt?" after a question about a wildfire is about that
    wildfire, not the storm whose sentence says "left their homes")."""
    text = question.strip()
    if not history or not is_followup(text, history[-1]):
        return None
    previous = history[-1]
    subject = " ".join(new_subject(text, previous))
    personal = any(w.lower() in _PERSONAL for w in words(text))
    names = (subject,) if subject else tuple(borrowed_names(text, previous)) if personal else ()
    story = None if has_own_subject(text, previous) else main_story(previous)
    whole = not is_elliptical(text) and not any(w.lower() in _ANAPHORA for w in words(text))
    return FollowUp(names, query, story, asked=text, whole=whole,
                    last=LastAnswer(previous.question, previous.quotes, main_story(previous)),
                    subject=subject)
