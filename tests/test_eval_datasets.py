"""Dataset readers: both layouts on tiny invented fixtures, plus the real dev slice when present."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from eval.datasets import (
    Dataset,
    EvalArticle,
    EvalQuestion,
    answer_in,
    answerable,
    article_id,
    parse_date,
)
from eval.errors import DatasetError
from eval.layouts import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"
REALTIMEQA = FIXTURES / "eval_realtimeqa"
GENERIC = FIXTURES / "eval_generic"
DEV_SLICE = Path("/work/shared/data/realtimeqa-2022")

FLOOD = article_id("https://millbrook-gazette.example/2025/01/01/flood")
AMBER = article_id("https://news.example.com/rivers/amber-dam")
BUSES = article_id("https://lakeside-times.example/transport/buses")
CONTEST = article_id("https://citybites.example/contest")


def _articles(path: Path, limit: int | None = None) -> dict[str, EvalArticle]:
    return {article.id: article for article in load_dataset(path, limit).articles}


# ---------------------------------------------------------------- RealTimeQA layout


def test_realtimeqa_questions_in_file_order_with_chosen_answers() -> None:
    dataset = load_dataset(REALTIMEQA)
    assert dataset.name == "eval_realtimeqa"
    assert [q.id for q in dataset.questions] == [
        "20250103_0",
        "20250103_1",
        "20250110_0",
        "20250110_1",
    ]
    first = dataset.questions[0]
    assert first.question == "Which river flooded the town of Millbrook this week?"
    assert first.answers == ("“The Silver River”",)
    assert first.asked_on == date(2025, 1, 2)
    assert dataset.questions[2].asked_on == date(2025, 1, 9)  # "2025-01-09" in a plain file
    assert dataset.questions[3].asked_on is None  # empty question_date


def test_realtimeqa_blank_choices_are_dropped() -> None:
    contest = load_dataset(REALTIMEQA).questions[2]
    assert contest.choices == ("Crumb & Co", "Butter Lane", "Flour Tower")
    assert contest.answers == ("Crumb & Co",)


def test_realtimeqa_duplicate_url_is_one_article_with_the_longest_text() -> None:
    articles = _articles(REALTIMEQA)
    flood = articles[FLOOD]
    # gcs (https://www..., http://.../ ) and gold copies share one id; gold has the longest text
    assert article_id("http://www.millbrook-gazette.example/2025/01/01/flood/") == FLOOD
    assert flood.text.endswith("The mayor opened the school gym as a shelter.")
    assert flood.title == "Silver River floods Millbrook"  # gold copies carry no title
    assert flood.published == date(2025, 1, 1)
    assert flood.source == "millbrook-gazette.example"


def test_realtimeqa_empty_text_article_is_dropped_and_counted() -> None:
    dataset = load_dataset(REALTIMEQA)
    titles = {article.title for article in dataset.articles}
    assert "Storm outlook" not in titles
    assert dataset.skipped == {
        "article without text": 1,
        "search results for a question missing from the qa files": 1,
    }


def test_realtimeqa_candidates_and_gold_link_articles_by_id() -> None:
    first, second, third, fourth = load_dataset(REALTIMEQA).questions
    assert first.candidate_article_ids == (FLOOD, AMBER)  # the empty storm article is gone
    assert first.gold_article_ids == (FLOOD,)
    assert second.candidate_article_ids == (FLOOD, BUSES)
    assert second.gold_article_ids == ()
    assert third.candidate_article_ids == (CONTEST,)
    assert fourth.candidate_article_ids == ()


def test_realtimeqa_dates_in_both_formats_and_missing() -> None:
    articles = _articles(REALTIMEQA)
    assert articles[BUSES].published == date(2024, 12, 31)  # "2024-12-31"
    assert articles[CONTEST].published == date(2025, 1, 8)  # "2025-01-08", gzip file
    assert articles[AMBER].published is None  # ""


def test_realtimeqa_keeps_articles_of_questions_missing_from_qa_files() -> None:
    assert "Orphaned story" in {a.title for a in load_dataset(REALTIMEQA).articles}


def test_limit_keeps_first_questions_and_only_their_articles() -> None:
    dataset = load_dataset(REALTIMEQA, limit=1)
    assert [q.id for q in dataset.questions] == ["20250103_0"]
    assert {a.id for a in dataset.articles} == {FLOOD, AMBER}


# ---------------------------------------------------------------- generic layout


def test_generic_layout_reads_corpus_and_questions() -> None:
    dataset = load_dataset(GENERIC)
    harbour = _articles(GENERIC)["harbour-1"]
    assert harbour.source == "portwen-news.example"
    assert harbour.published == date(2025, 2, 3)
    assert [q.id for q in dataset.questions] == ["g1", "g2", "g3"]
    g1 = dataset.questions[0]
    assert g1.answers == ("“Great Gale”",)
    assert g1.choices == ("The Great Gale", "A ferry", "Ice")
    assert g1.gold_article_ids == ("harbour-1",)
    assert g1.asked_on == date(2025, 2, 5)
    assert dataset.skipped == {"article without text": 1}


def test_generic_layout_optional_fields_default_to_empty() -> None:
    articles = _articles(GENERIC)
    library = articles["library-1"]
    assert (library.url, library.source, library.published) == (None, None, date(2025, 2, 4))
    g2 = load_dataset(GENERIC).questions[1]
    assert (g2.asked_on, g2.choices, g2.gold_article_ids, g2.candidate_article_ids) == (
        None,
        (),
        (),
        (),
    )


def test_generic_limit_keeps_whole_corpus() -> None:
    dataset = load_dataset(GENERIC, limit=1)
    assert [q.id for q in dataset.questions] == ["g1"]
    assert len(dataset.articles) == 2


def _write_generic(root: Path, corpus: list[dict], questions: list[dict]) -> Path:
    root.mkdir(exist_ok=True)
    for name, rows in (("corpus.jsonl", corpus), ("questions.jsonl", questions)):
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root


def test_generic_gold_id_missing_from_corpus_is_an_error(tmp_path: Path) -> None:
    root = _write_generic(
        tmp_path / "data",
        [{"id": "a", "title": "A", "text": "text"}],
        [{"id": "q", "question": "?", "answers": ["x"], "gold_article_ids": ["zzz"]}],
    )
    with pytest.raises(DatasetError, match=r"questions\.jsonl:1.*'zzz'.*add that article"):
        load_dataset(root)


@pytest.mark.parametrize("bad_id", ["news/2022/06/16/bridge", "storm elena", "-lead"])
def test_generic_article_id_the_index_cannot_take_is_an_error(tmp_path: Path, bad_id: str) -> None:
    root = _write_generic(tmp_path / "data", [{"id": bad_id, "title": "A", "text": "text"}],
                          [{"id": "q", "question": "?", "answers": ["text"]}])
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:1.*is not valid: use 1-128 letters"):
        load_dataset(root)


def test_generic_duplicate_article_id_keeps_longest_text(tmp_path: Path) -> None:
    root = _write_generic(
        tmp_path / "data",
        [
            {"id": "a", "title": "A", "text": "short"},
            {"id": "a", "title": "", "text": "a longer text"},
        ],
        [],
    )
    dataset = load_dataset(root)
    assert [(a.title, a.text) for a in dataset.articles] == [("A", "a longer text")]
    assert dataset.skipped == {"duplicate article id (kept the longest text)": 1}


# ---------------------------------------------------------------- errors


def test_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        load_dataset(tmp_path / "nope")


def test_folder_without_dataset_files_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"corpus\.jsonl and questions\.jsonl.*_qa\.jsonl"):
        load_dataset(tmp_path)


def test_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "20250103_qa.jsonl").write_text('{"question_id": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"20250103_qa\.jsonl:2: not valid JSON"):
        load_dataset(tmp_path)


def test_plain_and_gzip_twins_are_refused(tmp_path: Path) -> None:
    row = b'{"question_id": "a", "question_sentence": "?", "choices": ["x"], "answer": ["0"]}\n'
    (tmp_path / "20250103_qa.jsonl").write_bytes(row)
    (tmp_path / "20250103_qa.jsonl.gz").write_bytes(gzip.compress(row))
    with pytest.raises(DatasetError, match="keep only one"):
        load_dataset(tmp_path)


def test_answer_index_out_of_range_is_an_error(tmp_path: Path) -> None:
    row = '{"question_id": "a", "question_sentence": "?", "choices": ["x", "y"], "answer": ["5"]}'
    (tmp_path / "20250103_qa.jsonl").write_text(row + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="'5' is not the index of one of the 2 choices"):
        load_dataset(tmp_path)


def test_unreadable_date_is_an_error_naming_the_line(tmp_path: Path) -> None:
    row = {"id": "a", "title": "A", "text": "t", "published": "last Tuesday"}
    root = _write_generic(tmp_path / "data", [row], [])
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:1: field 'published'.*'last Tuesday'"):
        load_dataset(root)


# ---------------------------------------------------------------- dates and answers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022/06/16", date(2022, 6, 16)),
        ("2026-01-08", date(2026, 1, 8)),
        ("2022/06/17/16:34", date(2022, 6, 17)),
        ("2026-01-08T10:00:00Z", date(2026, 1, 8)),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_parse_date(raw: str | None, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["June 16", "2022/13/01", "20220616", 20220616])
def test_parse_date_refuses_garbage(raw: object) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(raw)


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("Netflix renewed “Squid Game” on Sunday.", ["“Squid Game”"], True),
        ("netflix renewed squid game", ["“Squid Game”"], True),
        ("It's the ‘Great Gale’", ["'great gale'"], True),
        ("New\nYork  City", ["New York City"], True),
        ("Squid Games", ["Friends"], False),
        ("anything", ["“ ”", ""], False),  # an answer that normalises to nothing never matches
        ("anything", [], False),
    ],
)
def test_answer_in(text: str, answers: list[str], expected: bool) -> None:
    assert answer_in(text, answers) is expected


def test_answerable_keeps_questions_whose_answer_is_in_some_article() -> None:
    kept, left_out = answerable(load_dataset(REALTIMEQA))
    # "Crumb & Co" matches "Crumb &  Co" (spacing); the penguin "Frost" is in no article
    assert [q.id for q in kept] == ["20250103_0", "20250103_1", "20250110_0"]
    assert left_out == {"answer not in corpus": 1}


def test_answerable_counts_questions_without_answer() -> None:
    kept, left_out = answerable(load_dataset(GENERIC))
    assert [q.id for q in kept] == ["g1", "g2"]
    assert left_out == {"no answer": 1}


def test_answerable_looks_beyond_the_questions_own_articles() -> None:
    dataset = load_dataset(REALTIMEQA)
    lonely = EvalQuestion("x", "?", None, (), ("electric buses",), (), (AMBER,))
    kept, _ = answerable(Dataset(dataset.name, dataset.articles, (lonely,)))
    assert kept == [lonely]


# ---------------------------------------------------------------- the real dev slice


@pytest.mark.skipif(not DEV_SLICE.is_dir(), reason="RealTimeQA dev slice not present")
def test_dev_slice_first_questions_load_with_their_articles() -> None:
    dataset = load_dataset(DEV_SLICE, limit=20)
    assert len(dataset.questions) == 20
    assert dataset.questions[0].asked_on == date(2022, 6, 16)
    ids = {article.id for article in dataset.articles}
    linked = {i for q in dataset.questions for i in (*q.candidate_article_ids, *q.gold_article_ids)}
    assert linked == ids
    assert all(article.text.strip() for article in dataset.articles)
    assert all(q.answers and q.answers[0] in q.choices for q in dataset.questions)
