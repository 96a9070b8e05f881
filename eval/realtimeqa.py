"""Reading the RealTimeQA layout: weekly YYYYMMDD_qa / _gcs / _gold JSON Lines files (see
eval/datasets.py for the layout and the shared record helpers)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from eval.datasets import (
    NO_TEXT,
    NO_URL,
    ORPHAN_RESULTS,
    Dataset,
    EvalArticle,
    EvalQuestion,
    Record,
    article_id,
    date_field,
    find_file,
    host_of,
    merge_articles,
    nonzero_counts,
    read_jsonl,
    str_list_field,
    text_field,
    unique_question_ids,
)
from eval.errors import DatasetError

_WEEKLY = re.compile(r"^\d{8}_(qa|gcs|gold)\.jsonl(?:\.gz)?$")


def weekly_files(root: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {"qa": [], "gcs": [], "gold": []}
    for path in sorted(root.iterdir()):
        match = _WEEKLY.match(path.name)
        if match and not path.name.endswith(".gz"):
            find_file(root, path.name)  # refuses a plain file next to its .gz twin
        if match:
            found[match.group(1)].append(path)
    return found


def load_realtimeqa(root: Path, weekly: dict[str, list[Path]], limit: int | None) -> Dataset:
    records = [item for path in weekly["qa"] for item in read_jsonl(path)]
    all_ids = unique_question_ids(records, "question_id")
    kept = records[:limit] if limit else records
    wanted = {text_field(record, "question_id", where) for where, record in kept}
    library = _ArticleLibrary()
    links = {
        kind: library.read_results(weekly[kind], all_ids, wanted, limit is None)
        for kind in ("gcs", "gold")
    }
    articles = library.articles()
    present = {article.id for article in articles}
    questions = tuple(_realtimeqa_question(record, where, links, present) for where, record in kept)
    return Dataset(root.resolve().name, articles, questions, nonzero_counts(library.skipped))






def _realtimeqa_question(
    record: Record, where: str, links: dict[str, dict[str, list[str]]], present: set[str]
) -> EvalQuestion:
    question_id = text_field(record, "question_id", where)
    choices = str_list_field(record, "choices", where)
    answers = tuple(
        choices[_choice_index(raw, choices, where)] for raw in str_list_field(record, "answer", where)
    )
    return EvalQuestion(
        id=question_id,
        question=text_field(record, "question_sentence", where, required=True),
        asked_on=date_field(record, "question_date", where),
        choices=tuple(choice for choice in choices if choice.strip()),
        answers=answers,
        gold_article_ids=_kept(links["gold"].get(question_id, []), present),
        candidate_article_ids=_kept(links["gcs"].get(question_id, []), present),
    )


def _choice_index(raw: str, choices: tuple[str, ...], where: str) -> int:
    if not raw.strip().isdigit() or int(raw) >= len(choices):
        raise DatasetError(
            f"{where}: answer {raw!r} is not the index of one of the {len(choices)} choices; "
            "fix the answer list of that question"
        )
    return int(raw)


def _kept(ids: list[str], present: set[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in ids if i in present))


class _ArticleLibrary:
    """Collects search-result articles from gcs/gold files, deduplicated by URL."""

    def __init__(self) -> None:
        self._by_id: dict[str, EvalArticle] = {}
        self.skipped: Counter[str] = Counter()

    def read_results(
        self, paths: list[Path], known: set[str], wanted: set[str], keep_orphans: bool
    ) -> dict[str, list[str]]:
        """Article ids per wanted question; articles of unknown questions kept if asked."""
        links: dict[str, list[str]] = {}
        for path in paths:
            for where, record in read_jsonl(path):
                question_id = text_field(record, "question_id", where, required=True)
                orphan = question_id not in known
                if orphan:
                    self.skipped[ORPHAN_RESULTS] += 1
                if question_id in wanted or (orphan and keep_orphans):
                    links.setdefault(question_id, []).extend(self._add_results(record, where))
        return links

    def _add_results(self, record: Record, where: str) -> Iterator[str]:
        results = record.get("search_result") or []
        if not isinstance(results, list):
            raise DatasetError(f"{where}: search_result must be a list of articles")
        for result in results:
            article = _result_article(result, where)
            if article is None:
                self.skipped[NO_URL] += 1
                continue
            old = self._by_id.get(article.id)
            self._by_id[article.id] = article if old is None else merge_articles(old, article)
            yield article.id

    def articles(self) -> tuple[EvalArticle, ...]:
        """The articles with text; those without are counted once each."""
        kept = tuple(a for a in self._by_id.values() if a.text.strip())
        self.skipped[NO_TEXT] += len(self._by_id) - len(kept)
        return kept


def _result_article(result: object, where: str) -> EvalArticle | None:
    if not isinstance(result, dict):
        raise DatasetError(f"{where}: each search_result entry must be an object")
    url = text_field(result, "url", where).strip()
    if not url:
        return None
    return EvalArticle(
        id=article_id(url),
        title=text_field(result, "title", where).strip(),
        text=text_field(result, "text", where),
        url=url,
        published=date_field(result, "publish_date", where),
        source=host_of(url) or None,
    )
