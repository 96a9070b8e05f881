"""The house's seams, read from the source: the shells (api/, eval/) call NewsQA's methods and
never its parts; qa/ reads the Collection through its methods, never its store or indexes."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from api.schemas import AskRequest
from qa.errors import InvalidQuestion
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import ROOT

SERVICE_PART = re.compile(r"\b(?:newsqa|service)\s*\.\s*(?:library|collection|embedder|query_embedder"
                          r"|desk)\b|\.(?:library|collection)\s*\.")
COLLECTION_PART = re.compile(r"\bcollection\s*\.\s*(?:store|keyword|engine|vectors)\b")


def _hits(folders: tuple[str, ...], pattern: re.Pattern[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
            for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if pattern.search(line)]


def test_api_and_eval_use_the_service_methods_not_its_parts() -> None:
    assert _hits(("api", "eval"), SERVICE_PART) == []


def test_qa_reads_the_collection_through_its_methods() -> None:
    assert _hits(("qa",), COLLECTION_PART) == []


def test_the_patterns_catch_what_they_are_for() -> None:
    assert SERVICE_PART.search("len(newsqa.library.article_ids())")
    assert SERVICE_PART.search("request.app.state.newsqa.collection.bulk()")
    assert COLLECTION_PART.search("self.collection.store.get_record(x)")
    assert not SERVICE_PART.search("newsqa.article(article_id)")


def test_one_top_k_limit_for_the_settings_the_api_and_the_service(service: NewsQA) -> None:
    with pytest.raises(InvalidQuestion, match="use 1 to 50"):
        service.search("bridge", top_k=51)
    with pytest.raises(ValidationError):
        Settings(top_k=51)
    with pytest.raises(ValidationError):
        AskRequest(question="bridge?", top_k=51)
    assert service.search("bridge", top_k=50) == []
