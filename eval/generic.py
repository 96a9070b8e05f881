"""Reading the generic JSON Lines layout: corpus.jsonl and questions.jsonl (see
eval/datasets.py for the layout and the shared record helpers)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from eval.datasets import (
    DUPLICATE_ID,
    NO_TEXT,
    Dataset,
    DatasetError,
    EvalArticle,
    EvalQuestion,
    Record,
    _counts,
    _date_field,
    _field,
    _host,
    _merge,
    _read_jsonl,
    _str_list,
    _unique_question_ids,
)


def load_generic(root: Path, corpus: Path, questions: Path, limit: int | None) -> Dataset:
    skipped: Counter[str] = Counter()
    by_id: dict[str, EvalArticle] = {}
    for where, record in _read_jsonl(corpus):
        article = _generic_article(record, where)
        if article.id in by_id:
            skipped[DUPLICATE_ID] += 1
            article = _merge(by_id[article.id], article)
        by_id[article.id] = article
    articles = tuple(a for a in by_id.values() if a.text.strip())
    skipped[NO_TEXT] += len(by_id) - len(articles)
    present = {article.id for article in articles}
    records = list(_read_jsonl(questions))
    _unique_question_ids(records, "id")
    kept = records[:limit] if limit else records
    parsed = tuple(_generic_question(record, where, present) for where, record in kept)
    return Dataset(root.resolve().name, articles, parsed, _counts(skipped))


def _generic_article(record: Record, where: str) -> EvalArticle:
    url = _field(record, "url", where).strip() or None
    return EvalArticle(
        id=_field(record, "id", where, required=True),
        title=_field(record, "title", where).strip(),
        text=_field(record, "text", where, required=True),
        url=url,
        published=_date_field(record, "published", where),
        source=(_host(url) or None) if url else None,
    )


def _generic_question(record: Record, where: str, present: set[str]) -> EvalQuestion:
    return EvalQuestion(
        id=_field(record, "id", where, required=True),
        question=_field(record, "question", where, required=True),
        asked_on=_date_field(record, "asked_on", where),
        choices=_str_list(record, "choices", where),
        answers=_str_list(record, "answers", where),
        gold_article_ids=_known_ids(record, "gold_article_ids", where, present),
        candidate_article_ids=_known_ids(record, "candidate_article_ids", where, present),
    )


def _known_ids(record: Record, key: str, where: str, present: set[str]) -> tuple[str, ...]:
    ids = _str_list(record, key, where)
    unknown = [i for i in ids if i not in present]
    if unknown:
        raise DatasetError(
            f"{where}: {key} names {unknown[0]!r}, which is no article with text in corpus.jsonl; "
            "add that article or remove the id"
        )
    return tuple(dict.fromkeys(ids))
