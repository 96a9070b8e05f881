"""Reading the generic JSON Lines layout: corpus.jsonl and questions.jsonl (see
eval/datasets.py for the layout and the shared record helpers)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from eval.datasets import (
    DUPLICATE_ID,
    NO_TEXT,
    Dataset,
    EvalArticle,
    EvalQuestion,
    Record,
    date_field,
    host_of,
    merge_articles,
    nonzero_counts,
    read_jsonl,
    str_list_field,
    text_field,
    unique_question_ids,
)
from eval.errors import DatasetError
from qa.ids import is_valid_article_id


def load_generic(root: Path, corpus: Path, questions: Path, limit: int | None) -> Dataset:
    skipped: Counter[str] = Counter()
    by_id: dict[str, EvalArticle] = {}
    for where, record in read_jsonl(corpus):
        article = _generic_article(record, where)
        if article.id in by_id:
            skipped[DUPLICATE_ID] += 1
            article = merge_articles(by_id[article.id], article)
        by_id[article.id] = article
    articles = tuple(a for a in by_id.values() if a.text.strip())
    skipped[NO_TEXT] += len(by_id) - len(articles)
    present = {article.id for article in articles}
    records = list(read_jsonl(questions))
    unique_question_ids(records, "id")
    kept = records[:limit] if limit else records
    parsed = tuple(_generic_question(record, where, present) for where, record in kept)
    return Dataset(root.resolve().name, articles, parsed, nonzero_counts(skipped))


def _generic_article(record: Record, where: str) -> EvalArticle:
    url = text_field(record, "url", where).strip() or None
    article_id = text_field(record, "id", where, required=True)
    if not is_valid_article_id(article_id):
        raise DatasetError(f"{where}: article id {article_id!r} is not valid: use 1-128 letters, "
                           "digits, '.', '_', ':' or '-', starting with a letter or digit")
    return EvalArticle(
        id=article_id,
        title=text_field(record, "title", where).strip(),
        text=text_field(record, "text", where, required=True),
        url=url,
        published=date_field(record, "published", where),
        source=(host_of(url) or None) if url else None,
    )


def _generic_question(record: Record, where: str, present: set[str]) -> EvalQuestion:
    return EvalQuestion(
        id=text_field(record, "id", where, required=True),
        question=text_field(record, "question", where, required=True),
        asked_on=date_field(record, "asked_on", where),
        choices=str_list_field(record, "choices", where),
        answers=str_list_field(record, "answers", where),
        gold_article_ids=_known_ids(record, "gold_article_ids", where, present),
        candidate_article_ids=_known_ids(record, "candidate_article_ids", where, present),
    )


def _known_ids(record: Record, key: str, where: str, present: set[str]) -> tuple[str, ...]:
    ids = str_list_field(record, key, where)
    unknown = [i for i in ids if i not in present]
    if unknown:
        raise DatasetError(
            f"{where}: {key} names {unknown[0]!r}, which is no article with text in corpus.jsonl; "
            "add that article or remove the id"
        )
    return tuple(dict.fromkeys(ids))
