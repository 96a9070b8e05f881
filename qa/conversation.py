"""Conversations: follow-up questions answered from the turns before them.

A `Chat` turns the messages of a conversation into one question for NewsQA: the last user
message, its search query resolved from the earlier turns (qa/followup.py). What it remembers
of each conversation lives in a `ConversationStore`, bounded in conversations, turns and
characters, so it never grows without limit. The messages a client sends are what its reader
sees, so when they carry earlier turns those decide what a follow-up leans on: the remembered
turns are used only where they are the same questions and answers (they also know which
articles each answer quoted), else the turns are rebuilt from the messages. The memory alone
serves a client that sends only the new question.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from qa.errors import InvalidConversation
from qa.followup import Turn, focus, leaning_on, resolve
from qa.service import NewsQA, TimedAnswer
from qa.textcheck import surrogate_problem

Role = Literal["user", "assistant"]
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MARKERS = re.compile(r"\s*\[\d+\]\s*")


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatLimits:
    """How much is remembered: turns and characters per conversation, conversations in all,
    and how long an idle conversation is kept."""

    max_turns: int = 6
    max_chars: int = 8_000
    max_conversations: int = 1_000
    ttl_s: float = 3_600.0


@dataclass(frozen=True)
class ChatPlan:
    """A turn ready to answer: the question, the query it resolved to, the turns before it,
    and the earlier question it was read with when it is a follow-up (else None)."""

    conversation_id: str
    question: str
    query: str
    history: tuple[Turn, ...]
    follows_up: str | None = None


@dataclass(frozen=True)
class ChatReply:
    conversation_id: str
    query: str
    timed: TimedAnswer
    follows_up: str | None = None

    @classmethod
    def of(cls, plan: ChatPlan, timed: TimedAnswer) -> ChatReply:
        return cls(plan.conversation_id, plan.query, timed, plan.follows_up)


def turn_size(turn: Turn) -> int:
    return len(turn.question) + len(turn.query) + len(turn.answer) + sum(map(len, turn.quotes))


def clipped(turn: Turn, max_chars: int) -> Turn:
    """`turn` cut to at most `max_chars` characters: quotes and answer give way first."""
    if turn_size(turn) <= max_chars:
        return turn
    question = turn.question[: max_chars // 4]
    query = turn.query[: max_chars // 4]
    room = max_chars - len(question) - len(query)
    quotes, answer = [], turn.answer[: room // 2]
    room -= len(answer)
    for quote in turn.quotes:
        if len(quote) > room:
            break
        quotes.append(quote)
        room -= len(quote)
    return Turn(question, query, answer, tuple(quotes), turn.stories[:len(quotes)])


class ConversationStore:
    """The last turns of recent conversations: a thread-safe LRU with a time-to-live."""

    def __init__(self, limits: ChatLimits | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or ChatLimits()
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, tuple[Turn, ...]]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)

    def get(self, conversation_id: str) -> tuple[Turn, ...]:
        """The remembered turns, oldest first; () for an unknown or expired conversation."""
        with self._lock:
            self._expire()
            item = self._items.get(conversation_id)
            if item is None:
                return ()
            self._items.move_to_end(conversation_id)
            return item[1]

    def append(self, conversation_id: str, turn: Turn) -> None:
        """Remember `turn` after the conversation's turns, dropping the oldest turns (and
        conversations) past the limits."""
        with self._lock:
            self._expire()
            item = self._items.get(conversation_id)
            self._put(conversation_id, [*(item[1] if item else ()), turn])

    def replace(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        """Remember `turns` (oldest first) as the whole conversation, within the limits."""
        with self._lock:
            self._expire()
            self._put(conversation_id, list(turns))

    def _put(self, conversation_id: str, turns: list[Turn]) -> None:
        limits = self.limits
        kept = [clipped(t, limits.max_chars) for t in turns[-limits.max_turns:]]
        while len(kept) > 1 and sum(map(turn_size, kept)) > limits.max_chars:
            kept.pop(0)
        self._items.pop(conversation_id, None)
        self._items[conversation_id] = (self._clock(), tuple(kept))
        while len(self._items) > limits.max_conversations:
            self._items.popitem(last=False)

    def _expire(self) -> None:
        deadline = self._clock() - self.limits.ttl_s
        while self._items:
            oldest_id, (touched, _) = next(iter(self._items.items()))
            if touched >= deadline:
                break
            del self._items[oldest_id]


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def check_conversation_id(value: str | None) -> str:
    if value is None:
        return new_conversation_id()
    if not _ID.fullmatch(value):
        raise InvalidConversation(
            f"conversation_id {value[:80]!r} is not valid; use 1 to 64 letters, digits, '-' or "
            "'_', or leave it out to start a new conversation")
    return value


Resolver = Callable[[str, Sequence[Turn]], str]


def turns_from_messages(messages: Sequence[Message], resolver: Resolver = resolve) -> list[Turn]:
    """Earlier turns rebuilt from the client's messages: each user question, resolved in turn
    by `resolver`, with the answer that followed it (its sentences are the quotes, markers
    removed)."""
    turns: list[Turn] = []
    for i, message in enumerate(messages):
        if message.role != "user":
            continue
        reply = messages[i + 1] if i + 1 < len(messages) else None
        answer = reply.content if reply is not None and reply.role == "assistant" else ""
        query = resolver(message.content, turns)
        quotes = tuple(q.strip() for q in _MARKERS.split(answer) if q.strip())
        turns.append(Turn(message.content.strip(), query, answer, quotes))
    return turns


def same_turns(remembered: Sequence[Turn], sent: Sequence[Turn]) -> bool:
    """Whether the remembered turns are the sent ones: the same question and the same answer,
    turn for turn, over the last turns both have (a clipped or empty memory is not)."""
    n = min(len(remembered), len(sent))
    return n > 0 and all(
        r.question == s.question and r.answer.strip() == s.answer.strip()
        for r, s in zip(remembered[-n:], sent[-n:], strict=True))


class Chat:
    """Answers the last question of a conversation, resolving follow-ups from earlier turns."""

    def __init__(self, newsqa: NewsQA, store: ConversationStore | None = None) -> None:
        self.newsqa = newsqa
        self.store = store or ConversationStore()

    def resolve(self, question: str, history: Sequence[Turn]) -> str:
        """The words a question is searched with (qa/followup.py)."""
        return resolve(question, history)

    def focus(self, question: str, history: Sequence[Turn]) -> str:
        """The words an answer's sentences are chosen by (qa/followup.py)."""
        return focus(question, history)

    def plan(self, messages: Sequence[Message], conversation_id: str | None = None) -> ChatPlan:
        """Check the messages and resolve the question; cheap (no model, no search)."""
        if not messages:
            raise InvalidConversation("messages is empty; send at least one user message")
        last = messages[-1]
        if last.role != "user":
            raise InvalidConversation(
                f"the last message is from the {last.role!r}; end messages with the user's "
                "question")
        cid = check_conversation_id(conversation_id)
        for i, message in enumerate(messages, start=1):
            problem = surrogate_problem(f"message {i}", message.content)
            if problem:
                raise InvalidConversation(problem)
        self._check_earlier_questions(messages[:-1])
        question = self.newsqa.check_question(last.content)
        history = self._history(messages[:-1], cid)
        query = self.resolve(question, history)
        follows_up = history[-1].question if query != question else None
        return ChatPlan(cid, question, query, history, follows_up)

    def _history(self, earlier: Sequence[Message], conversation_id: str) -> tuple[Turn, ...]:
        """The turns a question leans on. Earlier user messages decide them: the remembered
        turns serve only where they are the sent ones; with no earlier question sent, the
        memory is all there is."""
        limit = self.store.limits.max_turns
        remembered = self.store.get(conversation_id)[-limit:]
        if not any(m.role == "user" for m in earlier):
            return remembered
        sent = turns_from_messages(earlier, self.resolve)[-limit:]
        if same_turns(remembered, sent):
            return remembered[-len(sent):]
        return tuple(sent)

    def _check_earlier_questions(self, messages: Sequence[Message]) -> None:
        """Each earlier user message was a question, so it is held to a question's limit."""
        limit = self.newsqa.settings.max_question_chars
        for i, message in enumerate(messages, start=1):
            size = len(message.content.strip())
            if message.role == "user" and size > limit:
                raise InvalidConversation(
                    f"message {i}, from the user, has {size:,} characters, over the limit of "
                    f"{limit:,} for a question (NEWSQA_MAX_QUESTION_CHARS); shorten it")

    def answer(self, plan: ChatPlan) -> ChatReply:
        """Search with the resolved query; choose the answer's sentences by the question's own
        words, and the previous question's too when it leaves them out. An ellipsis with a
        subject of its own ("What about the storm?") asks the last question about it; when the
        coverage of that subject does not answer it, the question is answered as it stands,
        and the reply says so: its query is the question, and it follows up on nothing."""
        follow_up = (leaning_on(plan.question, plan.history, plan.query)
                     if plan.query != plan.question else None)
        timed = self.newsqa.ask_followup(self.focus(plan.question, plan.history), plan.query,
                                         follow_up)
        if follow_up is None or not follow_up.subject or not timed.answer.abstained:
            return ChatReply.of(plan, timed)
        alone = self.newsqa.ask_followup(plan.question, plan.question)
        return ChatReply(plan.conversation_id, plan.question,
                         replace(alone, took_ms=timed.took_ms + alone.took_ms))

    def record(self, plan: ChatPlan, reply: ChatReply) -> None:
        """Remember the conversation as this turn was answered: the turns it leaned on, then
        the turn itself, with the query it was searched with."""
        answer = reply.timed.answer
        quotes = tuple(c.quote for c in answer.citations)
        stories = tuple(c.article_id for c in answer.citations)
        turn = Turn(plan.question, reply.query, answer.text, quotes, stories)
        self.store.replace(plan.conversation_id, (*plan.history, turn))

    def reply(self, messages: Sequence[Message], conversation_id: str | None = None) -> ChatReply:
        plan = self.plan(messages, conversation_id)
        reply = self.answer(plan)
        self.record(plan, reply)
        return reply


__all__ = ["Chat", "ChatLimits", "ChatPlan", "ChatReply", "ConversationStore", "Message", "Turn",
           "same_turns"]
