"""Figures about a topic ("ICE budget", "power outages"), grouped, with revisions marked.

Choices, so a reader need not reverse-engineer them:
- Retrieval picks the articles: of those the topic's passages come from, the ones whose text
  (title and sections up to `as_of`) names the whole subject (qa/figures/subject.py). None: the
  timeline is empty and its `note` says why.
- The figure's own words pick the figures: it counts when the clause stating it names the
  subject, or, in a story whose title names the subject, when its sentence or heading holds the
  topic's kind word ("budget"); see qa/figures/subject.py.
- A group is one kind of figure for one thing in one article: amounts in one currency, a
  percentage, or counts of one noun at one rate ("customers", "arrests per day"). A count with
  no noun of its own ("revised to 3,100") takes the nearest noun of its sentence that the
  article also counts ("households"); such a count ("up from 8,000") is listed when another
  figure of its sentence counts for the topic. A count that names nothing ("voted 7-2") is left
  out: it has no group.
- A revision is a new value in a group, stated in a later section than an earlier value of the
  group, at most a factor of 2 from it (a bigger change is taken as a different thing), that
  does not restate it (`restates`). Only the new value's own wording makes it a restatement of
  a value within the match tolerance (5%): hedged ("nearly $29 billion") or rounded ("$29
  billion" after $28.7 billion). "21 people" after "20 people" and "1,040 buildings" after
  "about 1,000" are revisions. Two values stated in one sentence are different things ("$28.7
  billion ... with $45 billion over four years"), unless the sentence says one replaced the
  other ("up from", "revised", "rose from").
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from index.text import analyze
from qa.errors import InvalidQuestion
from qa.figures.extract import (
    AT_LEAST_QUALIFIERS,
    AT_MOST_QUALIFIERS,
    DEFAULT_REL_TOLERANCE,
    lemma,
)
from qa.figures.index import FigureAt, FigureIndex, published_by
from qa.figures.subject import MONEY_TERMS, PERCENT_TERMS, Topic, figure_is_about, topic_of
from qa.figures.timeline import (
    Appearance,
    Articles,
    FigureGroup,
    FigureTimeline,
    GroupValue,
    Revision,
    SectionTexts,
    appearances,
)
from qa.models import Passage

MAX_REVISION_RATIO = 2.0
TOPIC_PASSAGES = 20

_REVISION_CUE = re.compile(
    r"\b(?:up|down)\s+from\b|\brevis(?:ed|ion|ing)\b|\bpreviously\b|\binstead of\b|\brather than\b"
    r"|\b(?:rose|risen|fell|fallen|increased|decreased|raised|lowered|cut|climbed|dropped|jumped"
    r"|grew|grown|surged|swelled)\s+from\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")

GroupKey = tuple[str, str, str | None, str | None, str | None]  # article, kind, currency, noun, rate


@dataclass(frozen=True)
class _Item:
    """A figure with what grouping needs: its noun (own or inferred), quote and topic overlap."""

    figure: FigureAt
    noun: str | None
    quote: str
    overlap: float  # share of the topic's terms in its sentence and heading

    @property
    def key(self) -> GroupKey:
        f = self.figure
        return (f.article_id, f.kind, f.currency, self.noun if f.kind == "count" else None, f.rate)


def topic_timeline(index: FigureIndex, articles: Articles, topic: str, passages: Sequence[Passage],
                   as_of: datetime | None = None) -> FigureTimeline:
    """The figures about `topic` in the articles its `passages` come from, grouped."""
    about = topic_of(topic)
    if not about.terms:
        raise InvalidQuestion(f"the topic {topic!r} has no words to look for; name a figure "
                              "(\"$28.7 billion\") or a subject (\"ICE budget\")")
    texts = SectionTexts(articles)
    items: list[_Item] = []
    chosen = _best_articles(articles, texts, about, passages, as_of)
    for article_id in chosen:
        items += _article_items(index, articles, texts, article_id, about, as_of)
    items.sort(key=lambda item: item.figure.order_key())
    labels = [_label(item.key) for item in items]
    shown = appearances([i.figure for i in items], texts, groups=labels)
    groups, revisions = _groups(items, shown, about.terms)
    return FigureTimeline(topic, None, as_of, DEFAULT_REL_TOLERANCE, shown, groups, revisions,
                          note=_empty_note(topic, bool(chosen), as_of) if not shown else None,
                          covered=bool(chosen))


def _empty_note(topic: str, covered: bool, as_of: datetime | None) -> str:
    by = "" if as_of is None else f" published by {as_of.isoformat()}"
    name = " ".join(topic.split())
    if covered:
        return (f"The coverage{by} mentions “{name}” but states no figure about it; ask about it "
                "in plain words for the passages.")
    return f"No passage of the coverage{by} is about “{name}”, so there is no figure about it."


# -- choosing articles and figures ---------------------------------------------------------


def _best_articles(articles: Articles, texts: SectionTexts, topic: Topic,
                   passages: Sequence[Passage], as_of: datetime | None) -> list[str]:
    """Articles of `passages` that name the whole subject, in retrieval order."""
    seen: list[str] = []
    for passage in passages:
        article_id = passage.chunk.article_id
        if article_id not in seen:
            seen.append(article_id)
    return [a for a in seen if topic.covered_by(article_terms(articles, texts, a, as_of))]


def article_terms(articles: Articles, texts: SectionTexts, article_id: str,
                   as_of: datetime | None) -> set[str]:
    record = articles.record(article_id)
    sids = [sid for sid, stamp in record.section_stamps() if published_by(stamp, as_of)]
    found = set(analyze(record.title))
    for sid in sids:
        found.update(analyze(texts.get(article_id, sid)))
    return found


def _article_items(index: FigureIndex, articles: Articles, texts: SectionTexts, article_id: str,
                   topic: Topic, as_of: datetime | None) -> list[_Item]:
    figures = [f for f in index.article(article_id) if f.published_by(as_of)]
    nouns = {f.noun for f in figures if f.kind == "count" and f.noun}
    title_terms = set(analyze(articles.record(article_id).title))
    mates: dict[tuple[str, int], list[int]] = defaultdict(list)
    for f in figures:
        mates[(f.sid, f.quote_start)].append(f.start - f.quote_start)
    items: list[_Item] = []
    direct: set[int] = set()
    for f in figures:
        item = _item(f, texts, nouns, topic.terms)
        quote = item.quote
        at = f.start - f.quote_start
        others = [o for o in mates[(f.sid, f.quote_start)] if o != at]
        if figure_is_about(topic, f.kind, quote, at, f.heading, title_terms, others):
            direct.add(len(items))
        items.append(item)
    about = {items[i].key for i in direct if items[i].key[3] is not None}
    sentences = {(items[i].figure.sid, items[i].figure.quote_start) for i in direct}
    return [item for i, item in enumerate(items)
            if (i in direct or item.key in about and item.figure.noun is None
                and (item.figure.sid, item.figure.quote_start) in sentences)
            and (item.figure.kind != "count" or item.noun is not None)]


def _item(f: FigureAt, texts: SectionTexts, nouns: set[str], terms: frozenset[str]) -> _Item:
    """`f` with its noun (its own, or for a bare count the one its sentence counts), its quote
    and the share of `terms` its sentence and heading hold."""
    quote = texts.quote(f)
    words = set(analyze(f"{quote}\n{f.heading or ''}"))
    noun = f.noun if f.noun or f.kind != "count" else _inferred_noun(f, quote, nouns)
    return _Item(f, noun, quote, len(terms & words) / len(terms) if terms else 0.0)


def same_thing_timeline(index: FigureIndex, articles: Articles, figure: FigureAt, query: str,
                        as_of: datetime | None = None) -> FigureTimeline:
    """The figures of `figure`'s article that count what it counts (its group: the same
    currency, or the same noun and rate), with their revisions: "Was that figure revised?"
    about a figure an answer stated, whatever words the question uses for it."""
    texts = SectionTexts(articles)
    figures = [f for f in index.article(figure.article_id) if f.published_by(as_of)]
    nouns = {f.noun for f in figures if f.kind == "count" and f.noun}
    items = [_item(f, texts, nouns, frozenset()) for f in figures]
    key = next((i.key for i in items if (i.figure.sid, i.figure.start) == (figure.sid,
                                                                          figure.start)), None)
    items = [i for i in items if i.key == key and (i.figure.kind != "count" or i.noun is not None)]
    items.sort(key=lambda item: item.figure.order_key())
    shown = appearances([i.figure for i in items], texts, groups=[_label(i.key) for i in items])
    groups, revisions = _groups(items, shown, frozenset())
    return FigureTimeline(query, None, as_of, DEFAULT_REL_TOLERANCE, shown, groups, revisions,
                          covered=True)


def _inferred_noun(f: FigureAt, quote: str, nouns: set[str]) -> str | None:
    """The noun nearest to a bare count in its sentence that the article also counts."""
    at = f.start - f.quote_start
    before = [lemma(m[0]) for m in _WORD.finditer(quote, 0, at)][::-1]
    after = [lemma(m[0]) for m in _WORD.finditer(quote, at + len(f.surface))]
    return next((w for w in before + after if w in nouns), None)


# -- groups and revisions -------------------------------------------------------------------


def _label(key: GroupKey) -> str:
    _, kind, currency, noun, rate = key
    if kind == "money":
        name = f"amounts in {currency}"
    elif kind == "percent":
        name = "percentages"
    else:
        name = _plural(noun or "count")
    return f"{name} {rate}" if rate else name


def _plural(noun: str) -> str:
    if noun.endswith(("s", "people", "staff", "police")):
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("x", "ch", "sh")) else "s")


def _groups(items: list[_Item], shown: tuple[Appearance, ...], terms: frozenset[str]
            ) -> tuple[tuple[FigureGroup, ...], tuple[Revision, ...]]:
    members: dict[GroupKey, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        members[item.key].append(i)
    found = []
    for key, positions in members.items():
        group_items = [items[i] for i in positions]
        group_shown = [shown[i] for i in positions]
        revisions = tuple(Revision(key[0], group_shown[0].title, _label(key), group_shown[old],
                                   group_shown[new])
                          for old, new in find_revisions(group_items))
        score = _group_score(key, group_items, terms) + (1.0 if revisions else 0.0)
        found.append((score, _group(key, group_shown), revisions))
    found.sort(key=lambda g: -g[0])
    return (tuple(g for _, g, _ in found), tuple(r for _, _, rs in found for r in rs))


def _group_score(key: GroupKey, items: list[_Item], terms: frozenset[str]) -> float:
    """How squarely a group is about the topic: its noun or kind named, then term overlap."""
    _, kind, _, noun, _ = key
    named = (noun is not None and bool(set(analyze(noun)) & terms)
             or kind == "money" and bool(terms & MONEY_TERMS)
             or kind == "percent" and bool(terms & PERCENT_TERMS))
    return (2.0 if named else 0.0) + max(item.overlap for item in items)


def _group(key: GroupKey, shown: list[Appearance]) -> FigureGroup:
    by_value: dict[float, list[Appearance]] = {}
    for a in shown:
        by_value.setdefault(a.figure.value, []).append(a)
    values = tuple(GroupValue(value, apps[0].stated, tuple(a.marker for a in apps),
                              apps[0].timestamp, apps[-1].timestamp)
                   for value, apps in by_value.items())
    article_id, kind, currency, noun, rate = key
    return FigureGroup(article_id, shown[0].title, _label(key), kind, currency, noun, rate, values)


def _same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=DEFAULT_REL_TOLERANCE)


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _unit(f: FigureAt) -> float:
    """The place of the last digit as written, in the figure's value: 1e8 for "$28.7 billion",
    1e9 for "$29 billion", 1 for "3,400" and for "3,000" (a whole number's zeros may be exact,
    so they are never read as rounding: "1,000 buildings" after "1,040" is a new value)."""
    m = _NUMBER.search(f.surface)
    if m is None:
        return 0.0
    digits = m[0].replace(",", "")
    number = float(digits)
    place = 10.0 ** -len(digits.split(".")[1]) if "." in digits else 1.0
    return place * (f.value / number) if number else 0.0


def restates(old: FigureAt, new: FigureAt) -> bool:
    """Whether `new` states `old`'s value again: the same value, or one within the tolerance
    that is hedged so as to hold it ("nearly $29 billion" after $28.7 billion, but not "more
    than 21 people" after 20) or visibly rounded, to fewer decimals than `old` gave ("$29
    billion" for $28.7 billion, "1.2 million" for 1,204,000). Only the new value's wording
    makes it a restatement: a later value as precise as the earlier one or more ("21 people"
    after "20 people", "1,040" after "about 1,000", "5.9 metres" after "5.8 metres") is new."""
    if math.isclose(old.value, new.value, rel_tol=1e-9):
        return True
    if not _same_value(old.value, new.value):
        return False
    if new.qualifier:
        if new.qualifier in AT_LEAST_QUALIFIERS:
            return old.value >= new.value
        if new.qualifier in AT_MOST_QUALIFIERS:
            return old.value <= new.value
        return True
    coarse = _unit(new)
    return coarse > _unit(old) and math.floor(old.value / coarse + 0.5) == math.floor(
        new.value / coarse + 0.5)


def _plausible(old: float, new: float) -> bool:
    low, high = sorted((abs(old), abs(new)))
    return low > 0 and high / low <= MAX_REVISION_RATIO


def find_revisions(items: Sequence[_Item]) -> list[tuple[int, int]]:
    """(old, new) positions of the revisions among one group's items, which are oldest first."""
    established: list[int] = []  # the latest statement of each value from earlier sections
    revisions: list[tuple[int, int]] = []
    sections: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        sections[(item.figure.article_id, item.figure.sid)].append(i)
    for positions in sorted(sections.values()):
        for i in positions:
            new = items[i]
            if any(restates(items[e].figure, new.figure) for e in established):
                continue
            old = [e for e in established if _plausible(items[e].figure.value, new.figure.value)
                   and not _stated_apart(items, positions, i, items[e].figure.value)]
            if old:
                revisions.append((max(old, key=lambda e: items[e].figure.order_key()), i))
        for i in positions:
            new_figure = items[i].figure
            restated = [e for e in established if restates(items[e].figure, new_figure)]
            if restated and not any(_equal(items[e].figure, new_figure) for e in restated):
                continue  # a hedged or rounded form: later values are held to the value it restates
            established = [e for e in established if e not in restated]
            established.append(i)
    return revisions


def _equal(a: FigureAt, b: FigureAt) -> bool:
    return math.isclose(a.value, b.value, rel_tol=1e-9)


def _stated_apart(items: Sequence[_Item], section: list[int], i: int, old_value: float) -> bool:
    """Whether item i's sentence also states `old_value` as a different thing (no revision cue)."""
    new = items[i]
    mates = [items[j] for j in section
             if j != i and items[j].figure.quote_start == new.figure.quote_start]
    if not any(_same_value(m.figure.value, old_value) for m in mates):
        return False
    return _REVISION_CUE.search(new.quote) is None




# -- what a topic's figures are of, and one figure's history ---------------------------------

NEAR_TERMS = 2  # how many words from a figure its thing may stand ("crest reached 5.1 metres")


def is_figure_of(a: Appearance, head: str | None) -> bool:
    """Whether the figure of `a` is one of `head` (qa/figures/subject.py `head_term`): the word
    is the noun it counts or stands within two words of it in its sentence, stop words aside
    ("The Marrow river crest reached 5.1 metres", "20 people were killed"); the storm of "the
    storm's sustained winds to 70 miles per hour" is the winds' owner, not what they measure."""
    if head is None:
        return False
    at = a.figure.start - a.figure.quote_start
    end = at + len(a.figure.surface)
    near = (analyze(a.quote[:at])[-NEAR_TERMS:] + analyze(a.figure.surface)
            + analyze(a.quote[end:])[:NEAR_TERMS])
    return head in near


def tracks(timeline: FigureTimeline, head: str | None) -> bool:
    """Whether the timeline's first group is a figure of `head` that the coverage states more
    than once, so its history answers "how did it change": "How did the Marrow river crest
    change?" (5.1, 5.5, 5.9 metres). "How did ICE's policy change?" names no figure, however many
    ICE figures there are; a thing whose figure is stated once ("outages rose to 185,000
    customers", the earlier count not naming outages) is left to the passages, since "185,000
    throughout" would claim more than the coverage says."""
    if not timeline.groups:
        return False
    group = timeline.groups[0]
    shown = [a for a in timeline.appearances
             if a.group == group.label and a.figure.article_id == group.article_id]
    return len(shown) > 1 and any(is_figure_of(a, head) for a in shown)


def figure_history(index: FigureIndex, articles: Articles, figure: FigureAt, topic: str,
                   as_of: datetime | None = None) -> tuple[Appearance, ...]:
    """The values the thing `figure` counts took by `as_of`, oldest first, following its
    group's revisions back and forward from `figure`'s value: ("about 120,000 customers",
    "185,000 customers"). Just `figure` when it was never revised; empty when it does not count
    for `topic` (the question it answers), so its group says nothing about what was asked. When
    `topic` has kind words ("budget"), every value's sentence must hold one."""
    about = topic_of(topic)
    if not about.terms:
        return ()
    texts = SectionTexts(articles)
    items = sorted(_article_items(index, articles, texts, figure.article_id, about, as_of),
                   key=lambda item: item.figure.order_key())
    own = next((i for i, item in enumerate(items) if item.figure == figure), None)
    if own is None or not _names_kind(items[own], about):
        return ()
    group = [item for item in items if item.key == items[own].key and _names_kind(item, about)]
    at = group.index(items[own])
    revisions = sorted(find_revisions(group), key=lambda r: group[r[1]].figure.order_key())
    chain = [at]
    for old, new in reversed(revisions):  # back to the first value
        if new <= chain[0] and _equal(group[new].figure, group[chain[0]].figure):
            chain.insert(0, old)
    for old, new in revisions:  # on to the newest
        if new > chain[-1] and _equal(group[old].figure, group[chain[-1]].figure):
            chain.append(new)
    return appearances([group[i].figure for i in chain], texts,
                       groups=[_label(group[i].key) for i in chain])


def _names_kind(item: _Item, topic: Topic) -> bool:
    """Whether the figure's sentence or heading holds one of the topic's kind words, if it has
    any: an amount "budgeted" and one a contract "is worth" are two things to a question about
    the budget, though one currency groups them."""
    return not topic.kind_words or bool(topic.kind_words & set(analyze(
        f"{item.quote}\n{item.figure.heading or ''}")))
