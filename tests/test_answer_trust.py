"""Answers a reader can trust (issue 9, items 4-6): no padding sentences, follow-ups only when
the question leans on the last turn, abstention when the coverage does not hold the answer.
The demo corpus plus a live article written for these tests; the hashing embedder (with
abstention off, since its cosines are not the model's) except where abstention is tested, with
the real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import HashingEmbedder, SentenceTransformerEmbedder
from qa.answer import AnswerSettings, compose_answer
from qa.conversation import Chat, Message
from qa.followup import Turn, is_followup, leaning_on, resolve
from qa.models import Chunk, Passage, SectionRef
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO

CONTRACTS = Path(__file__).resolve().parent / "fixtures" / "live"
BRIDGE = "Which firm won the Quay Street Bridge contract?"


@pytest.fixture
def coverage(settings: Settings) -> Iterator[NewsQA]:
    service = NewsQA(settings, embedder=HashingEmbedder(),
                     answer_settings=AnswerSettings(min_confidence=0.0))
    assert not [o for o in service.ingest_paths([DEMO, CONTRACTS]) if o.error]
    yield service
    service.close()


@pytest.fixture
def real_coverage(real_service: NewsQA) -> NewsQA:
    assert not [o for o in real_service.ingest_paths([DEMO, CONTRACTS]) if o.error]
    return real_service


@pytest.fixture
def real_answers(tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> Iterator[NewsQA]:
    """The real model with abstention off: which sentences an answer holds, whether or not its
    confidence clears the threshold ('Which company built TrackLine?' sits at it)."""
    service = NewsQA(Settings(data_dir=tmp_path / "answers"), embedder=real_embedder,
                     answer_settings=AnswerSettings(min_confidence=0.0))
    assert not [o for o in service.ingest_paths([DEMO, CONTRACTS]) if o.error]
    yield service
    service.close()


def quotes(service: NewsQA, question: str) -> list[str]:
    return [c.quote for c in service.ask(question).answer.citations]


def converse(service: NewsQA, *questions: str) -> list[tuple[str, str]]:
    """(query searched, answer text) for each question, asked in one conversation."""
    chat, messages, cid, out = Chat(service), [], None, []
    for question in questions:
        messages.append(Message("user", question))
        reply = chat.reply(messages, cid)
        cid = reply.conversation_id
        messages.append(Message("assistant", reply.timed.answer.text))
        out.append((reply.query, reply.timed.answer.text))
    return out


# -- every sentence earns its place ----------------------------------------------------------

def test_the_bridge_winner_is_not_padded_with_the_bridge_history(coverage: NewsQA) -> None:
    found = quotes(coverage, BRIDGE)
    assert "Northwind Engineering" in found[0]
    assert not any("opened in 1961" in q for q in found), found


@pytest.mark.e2e
@pytest.mark.xfail(reason="known miss: in this 30-chunk corpus 'company' and 'TrackLine' "
                   "weigh the same, and the sentence model (fitted on RealTimeQA, where the "
                   "passage cosine earned no weight) lets the top passage's 'Power company "
                   "Coastline Energy...' lead", strict=True)
def test_who_built_a_system_is_not_padded_with_another_firm(real_answers: NewsQA) -> None:
    found = quotes(real_answers, "Which company built TrackLine?")
    assert "Veridian Analytics" in found[0]
    assert not any("Lumasight" in q for q in found), found


def passage(text: str, rank: int, dense: float = 0.6) -> Passage:
    chunk = Chunk("a", SectionRef("body"), text, 0, len(text), None, title="T")
    return Passage(rank, chunk, 1.0 / (1 + rank), dense, 1.0)


def test_a_second_sentence_stays_when_it_answers_what_the_first_leaves_out() -> None:
    text = ("The Millbrook council approved the library budget on Monday. "
            "The new library will open in the old post office in May.")
    answer = compose_answer("When did the council approve the library budget, and when will "
                            "the new library open in the old post office?", [passage(text, 0)],
                            lambda t: 2.0, AnswerSettings(min_confidence=0.0), 10)
    assert sorted(c.quote[:20] for c in answer.citations) == ["The Millbrook counci",
                                                               "The new library will"]


def test_a_sentence_that_only_repeats_the_subject_is_left_out() -> None:
    text = ("The Millbrook council approved the library budget on Monday. "
            "The Millbrook library has been closed since 2019.")
    answer = compose_answer("When did the Millbrook council approve the library budget?",
                            [passage(text, 0)], lambda t: 2.0, AnswerSettings(min_confidence=0.0),
                            10)
    assert [c.quote for c in answer.citations] == [
        "The Millbrook council approved the library budget on Monday."]


# -- follow-ups only when the question leans on the last turn --------------------------------

BOIL = Turn("How many households are affected by the boil-water advisory?",
            "How many households are affected by the boil-water advisory?", "...",
            ("The authority said the advisory affects about 2,400 households.",))


def test_a_question_with_its_own_subject_is_not_a_followup() -> None:
    question = "How strong were Storm Elena's winds when it came ashore?"
    assert resolve(question, [BOIL]) == question


def test_storm_winds_after_a_boil_water_question_searches_only_its_own_words(
        coverage: NewsQA) -> None:
    (_, _), (query, answer) = converse(
        coverage, BOIL.question, "How strong were Storm Elena's winds when it came ashore?")
    assert query == "How strong were Storm Elena's winds when it came ashore?"
    assert "95 miles per hour" in answer


@pytest.mark.e2e
def test_their_contract_after_who_built_it_is_the_builders_contract(
        real_answers: NewsQA) -> None:
    (_, first), (query, answer) = converse(
        real_answers, "Which company built TrackLine?", "How much was their contract worth?")
    assert "Veridian Analytics" in first
    assert "Veridian" in query and "Lumasight" not in query
    assert "$41 million" in answer
    assert "$2.9 million" not in answer and "$452 million" not in answer


@pytest.mark.parametrize(("previous", "question", "followup"), [
    # leaning on the last turn: a pronoun, an ellipsis, no subject of its own
    (BOIL, "How long could it last?", True),
    (BOIL, "Who said that?", True),
    (BOIL, "And in Port Marlow?", True),
    (BOIL, "When?", True),
    (BOIL, "What about the repairs?", True),
    (Turn("Who voted against the bridge contract?", "Who voted against the bridge contract?",
          "", ("Council member Rosa Delgado voted against the award.",)),
     "What was her concern?", True),
    (Turn("How many residents evacuated before Storm Elena?",
          "How many residents evacuated before Storm Elena?", "",
          ("About 12,000 residents left their homes ahead of the storm.",)),
     "How many shelters did they open?", True),
    # a subject of its own: a new name, or a topic the last turn never mentioned
    (BOIL, "How strong were Storm Elena's winds when it came ashore?", False),
    (BOIL, "Which firm won the Quay Street Bridge contract?", False),
    (BOIL, "Why are Millbrook teachers on strike?", False),
    (BOIL, "How many customers lost power when the storm hit?", False),
    (BOIL, "What did the council pay for the new bridge?", False),
])
def test_followups_are_told_from_new_questions(previous: Turn, question: str,
                                               followup: bool) -> None:
    assert (resolve(question, [previous]) != question) is followup
    assert is_followup(question, previous) is followup


# -- abstention -------------------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.parametrize("question", [
    "What is the capital of France?",
    "How many people has the border agency deported to Canada?",
])
def test_questions_the_coverage_does_not_answer_are_declined(real_coverage: NewsQA,
                                                             question: str) -> None:
    answer = real_coverage.ask(question).answer
    assert answer.abstained, answer.text
    assert answer.citations == ()


@pytest.mark.e2e
def test_a_question_the_coverage_answers_is_answered_with_its_confidence(
        real_coverage: NewsQA) -> None:
    answer = real_coverage.ask(BRIDGE).answer
    assert not answer.abstained
    assert answer.confidence is not None and answer.confidence >= AnswerSettings().min_confidence


FIRE = Turn("How much of the Cedar Ridge wildfire is contained?",
            "How much of the Cedar Ridge wildfire is contained?", "",
            ("Fire chief Dana Whitfield said containment had reached 35 percent.",))


def test_it_points_at_the_topic_not_at_a_person_the_last_answer_quoted() -> None:
    """'What started it?' asks about the fire: its answer must not be drawn from passages that
    name the fire chief the last answer quoted."""
    leans = leaning_on("What started it?", [FIRE], "What started it? (Cedar Ridge wildfire)")
    assert leans is not None and leans.names == ()


def test_her_points_at_the_person_the_last_answer_named() -> None:
    dissent = Turn("Who voted against the bridge contract?", "Who voted against the bridge contract?",
                   "", ("Council member Rosa Delgado voted against the award.",))
    leans = leaning_on("What was her concern?", [dissent], "What was her concern? (bridge)")
    assert leans is not None and "Rosa Delgado" in leans.names


@pytest.fixture
def stories(settings: Settings) -> Iterator[NewsQA]:
    from eval.multiturn import CORPORA

    service = NewsQA(settings, embedder=HashingEmbedder(),
                     answer_settings=AnswerSettings(min_confidence=0.0))
    assert not [o for o in service.ingest_paths(list(CORPORA)) if o.error]
    yield service
    service.close()


def test_a_follow_up_without_a_subject_of_its_own_stays_with_the_last_answers_story(
        stories: NewsQA) -> None:
    """'Was anyone hurt?' after a question about the wildfire is about the wildfire: its
    sentences never come from the storm story ('About 12,000 residents left their homes')."""
    chat, messages, cid = Chat(stories), [], None
    for question in ("Has the Cedar Ridge fire destroyed any homes?", "Was anyone hurt?"):
        messages.append(Message("user", question))
        reply = chat.reply(messages, cid)
        cid = reply.conversation_id
        messages.append(Message("assistant", reply.timed.answer.text))
    fire = set(chat.store.get(cid)[0].stories)
    assert fire and all("cedar-ridge" in story for story in fire)
    cited = {c.article_id for c in reply.timed.answer.citations}
    assert cited and cited <= fire, cited


def test_a_follow_up_naming_its_own_subject_is_not_held_to_the_last_story() -> None:
    turn = Turn(BRIDGE, BRIDGE, "", ("Northwind Engineering won.",), ("harbor-bridge",))
    leans = leaning_on("What about the Eastbrook bus depot?", [turn],
                       "What about the Eastbrook bus depot? (firm won contract)")
    assert leans is not None and leans.story is None
    leans = leaning_on("How much is it worth?", [turn], "How much is it worth? (firm won)")
    assert leans is not None and leans.story == "harbor-bridge"
    padded = Turn(BRIDGE, BRIDGE, "", ("Outages rose.", "Northwind won.", "It costs more."),
                  ("storm", "harbor-bridge", "harbor-bridge"))
    leans = leaning_on("How much is it worth?", [padded], "How much is it worth? (firm won)")
    assert leans is not None and leans.story == "harbor-bridge"


def test_an_ellipsis_naming_a_new_thing_leaves_the_last_story(stories: NewsQA) -> None:
    """'What about the wildfire?' after a question about the strike asks about the wildfire:
    it is not answered from the strike story alone; 'And the schools?' still is."""
    for follow_up, story in (("What about the wildfire?", "cedar-ridge"),
                             ("And in the wildfire?", "cedar-ridge")):
        chat, messages, cid = Chat(stories), [], None
        for question in ("How many schools closed in the Millbrook strike?", follow_up):
            messages.append(Message("user", question))
            reply = chat.reply(messages, cid)
            cid = reply.conversation_id
            messages.append(Message("assistant", reply.timed.answer.text))
        cited = {c.article_id for c in reply.timed.answer.citations}
        assert any(story in a for a in cited), (follow_up, cited)
    strike = Turn("How many schools closed in the Millbrook strike?", "schools closed Millbrook "
                  "strike", "All 31 of the district's schools were closed.",
                  ("All 31 of the district's schools were closed.",), ("millbrook-strike",))
    for same in ("And the schools?", "When?", "What about the strike?"):
        leans = leaning_on(same, [strike], f"{same} (schools Millbrook)")
        assert leans is not None and leans.story == "millbrook-strike", same
    leans = leaning_on("What about the wildfire?", [strike], "What about the wildfire? (schools)")
    assert leans is not None and leans.story is None


def test_a_follow_up_sharing_no_word_with_the_coverage_is_answered_by_meaning() -> None:
    """'Was anyone hurt?' after a question about a fire: no sentence holds 'hurt', so the one
    closest in meaning answers, alone ('One firefighter was treated for heat exhaustion');
    'Where will it be built?' leans on 'it' and is not read by its bare meaning."""
    fire = Turn("Has the fire destroyed any homes?", "Has the fire destroyed any homes?", "",
                ("No homes have been destroyed.",), ("fire",))
    whole = leaning_on("Was anyone hurt?", [fire], "Was anyone hurt? (fire destroyed homes)")
    assert whole is not None and whole.whole
    leaning = leaning_on("Where will it be built?", [fire], "Where will it be built? (fire)")
    assert leaning is not None and not leaning.whole
    text = "No homes have been destroyed. One firefighter was treated for heat exhaustion."
    chunk = Chunk("fire", SectionRef("body"), text, 0, len(text), None, title="Fire")
    passage = Passage(0, chunk, 1.0, 0.5, 1.0)

    def closeness(question: str, texts: list[str]) -> list[float]:
        return [1.0 if "firefighter" in t else 0.0 for t in texts]

    answer = compose_answer("Was anyone hurt?", [passage], lambda t: 1.0,
                            AnswerSettings(min_confidence=0.0), 1, whole, closeness=closeness)
    assert [c.quote for c in answer.citations] == [
        "One firefighter was treated for heat exhaustion."]
