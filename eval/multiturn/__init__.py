"""The multi-turn benchmark: how often a follow-up question's answer is right, with and without
resolving it from the turns before.

Each conversation (conversations.jsonl) is a list of turns, each a question and the strings of
which one must appear in a right answer. A later turn marked `"new_topic": true` changes the
subject: it must be answered as asked, not read as a follow-up (`mistaken` counts those whose
search borrowed words from the turn before). Conversations are replayed through `qa.conversation.Chat`
over the demo corpus plus the articles in articles/, each follow-up seeing the system's own
earlier answers, as a reader of the widget would.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.embed import Embedder
from qa.conversation import Chat, Message
from qa.followup import Turn
from qa.service import NewsQA
from qa.settings import Settings

HERE = Path(__file__).resolve().parent
CONVERSATIONS = HERE / "conversations.jsonl"
CORPORA = (HERE.parent.parent / "qa" / "demo_corpus", HERE / "articles")


@dataclass(frozen=True)
class TurnCase:
    question: str
    expect: tuple[str, ...]
    new_topic: bool = False


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[TurnCase, ...]


@dataclass(frozen=True)
class TurnResult:
    conversation: str
    index: int  # 0 is the opening question
    question: str
    query: str
    answer: str
    right: bool
    new_topic: bool = False

    @property
    def read_as_followup(self) -> bool:
        return self.query != self.question


@dataclass(frozen=True)
class Score:
    opening_right: int
    openings: int
    followups_right: int
    followups: int
    after_right_right: int  # follow-ups right among those whose previous turn was right
    after_right: int
    new_topic_right: int = 0
    new_topics: int = 0
    mistaken: int = 0       # new-topic questions read as follow-ups

    @property
    def followup_accuracy(self) -> float:
        return self.followups_right / self.followups if self.followups else 0.0


def load_conversations(path: Path = CONVERSATIONS) -> list[Conversation]:
    out = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            turns = tuple(TurnCase(t["q"], tuple(t["expect"]), bool(t.get("new_topic", False)))
                          for t in doc["turns"])
            out.append(Conversation(doc["id"], turns))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {line_no}: not a conversation ({exc}); expected "
                             '{"id": str, "turns": [{"q": str, "expect": [str, ...]}, ...]}') from exc
    return out


def is_right(answer: str, abstained: bool, expect: tuple[str, ...]) -> bool:
    lowered = answer.lower()
    return not abstained and any(e.lower() in lowered for e in expect)


def replay(chat: Chat, conversation: Conversation) -> list[TurnResult]:
    """Ask each turn in order; later turns carry the messages (and answers) before them."""
    messages: list[Message] = []
    results = []
    cid = None
    for index, case in enumerate(conversation.turns):
        messages.append(Message("user", case.question))
        reply = chat.reply(messages, cid)
        cid = reply.conversation_id
        answer = reply.timed.answer
        messages.append(Message("assistant", answer.text))
        results.append(TurnResult(conversation.id, index, case.question, reply.query, answer.text,
                                  is_right(answer.text, answer.abstained, case.expect),
                                  case.new_topic))
    return results


def score(results: list[TurnResult]) -> Score:
    openings = [r for r in results if r.index == 0]
    followups = [r for r in results if r.index > 0 and not r.new_topic]
    new_topics = [r for r in results if r.new_topic]
    right = {(r.conversation, r.index) for r in results if r.right}
    after_right = [r for r in followups if (r.conversation, r.index - 1) in right]
    return Score(sum(r.right for r in openings), len(openings),
                 sum(r.right for r in followups), len(followups),
                 sum(r.right for r in after_right), len(after_right),
                 sum(r.right for r in new_topics), len(new_topics),
                 sum(r.read_as_followup for r in new_topics))


@contextmanager
def demo_service(embedder: Embedder | None, settings: Settings | None = None) -> Iterator[NewsQA]:
    """A NewsQA over the benchmark's articles, in a temporary data directory."""
    with tempfile.TemporaryDirectory(prefix="newsqa-multiturn-") as tmp:
        base = settings or Settings()
        service = NewsQA(base.model_copy(update={"data_dir": Path(tmp) / "data"}),
                         embedder=embedder)
        try:
            failed = [o for o in service.ingest_paths(list(CORPORA)) if o.error]
            if failed:
                raise ValueError(f"benchmark articles failed to ingest: {failed[0].error}")
            yield service
        finally:
            service.close()


class StandaloneChat(Chat):
    """The baseline: every question answered as if it stood alone, nothing borrowed from the
    turns before it."""

    def resolve(self, question: str, history: Sequence[Turn]) -> str:
        return question

    def focus(self, question: str, history: Sequence[Turn]) -> str:
        return question


def run(service: NewsQA, conversations: list[Conversation],
        rewrite: bool) -> list[TurnResult]:
    """Replay `conversations` through the production Chat, or (`rewrite=False`) the baseline."""
    chat = Chat(service) if rewrite else StandaloneChat(service)
    return [r for c in conversations for r in replay(chat, c)]
