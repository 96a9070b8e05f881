"""Checking that every quote is a verbatim substring of the text that was ingested."""

from __future__ import annotations

import logging
from collections.abc import Callable

from qa.models import Answer, Citation

log = logging.getLogger(__name__)

SectionText = Callable[[Citation], str | None]


def quote_is_verbatim(citation: Citation, section_text: str | None) -> bool:
    return section_text is not None and section_text[citation.start:citation.end] == citation.quote


def verified(answer: Answer, section_text: SectionText) -> Answer:
    """`answer` if all its quotes check out against the stored sections; otherwise raise.

    A quote that is not verbatim is a bug in newsqa, never something to paper over.
    """
    for citation in answer.citations:
        if not quote_is_verbatim(citation, section_text(citation)):
            raise AssertionError(
                f"citation [{citation.marker}] quote {citation.quote[:80]!r} is not verbatim in "
                f"article {citation.article_id!r} {citation.section.key()} at "
                f"{citation.start}:{citation.end}")
        if f"[{citation.marker}]" not in answer.text:
            raise AssertionError(f"citation [{citation.marker}] has no marker in the answer")
    return answer
