"""The search modes: the one list every layer (settings, API schema, CLI, benchmark) takes them
from. Imports nothing, so the CLI can name them in its help for free."""

from __future__ import annotations

from typing import Literal

SearchMode = Literal["dense", "bm25", "hybrid"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "bm25")
