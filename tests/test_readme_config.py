"""README's configuration table is what the code does: every setting is in it (one table, so a
reader sees it whole), the plain defaults it quotes are the code's, and the budgets and size
limits it gives for the API are the ones api/ enforces."""

from __future__ import annotations

import re

from api.middleware import CHAT_BODY_BYTES, MAX_HEADER_BYTES, MAX_QUERY_BYTES, SMALL_BODY_BYTES
from api.ratelimit import BUDGETS
from qa.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]


def _table() -> list[list[str]]:
    """The rows of the section's first table, which ends at the first line that is not a row."""
    lines = SECTION.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| variable |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_in_the_one_table() -> None:
    text = "\n".join(" | ".join(row) for row in _table())
    missing = [f"NEWSQA_{name.upper()}" for name in Settings.model_fields
               if f"`NEWSQA_{name.upper()}`" not in text]
    assert not missing, f"not in README's configuration table: {missing}"


def test_the_plain_defaults_the_table_quotes_are_the_codes() -> None:
    checked = 0
    for variable, default, _meaning in _table():
        name = re.fullmatch(r"`NEWSQA_(\w+)`", variable)
        literal = re.fullmatch(r"`([^`]+)`", default)
        if not name or not literal or name[1].lower() not in Settings.model_fields:
            continue
        field = Settings.model_fields[name[1].lower()]
        code = field.default if field.default_factory is None else None
        assert literal[1] in {_shown(code), str(code)}, (variable, literal[1], code)
        checked += 1
    assert checked >= 15


def test_the_budgets_and_size_limits_are_the_ones_enforced() -> None:
    for name, budget in BUDGETS.items():
        assert re.search(rf"`{name}`[^;]*?\s{budget.per_minute}\s\({budget.burst}\)", SECTION), name
    flat = " ".join(SECTION.split())
    assert f"limited to {MAX_HEADER_BYTES // 1024} KiB in all (431)" in flat
    assert f"query string to {MAX_QUERY_BYTES // 1024} KiB (414)" in flat
    assert (f"`/v1/chat` takes {CHAT_BODY_BYTES // 2**20} MiB, other routes "
            f"{SMALL_BODY_BYTES // 1024} KiB") in flat
