"""JSON as the API sends it: UTF-8 ("café" stays "café"), with DEL and the C1 controls that
article text may hold written as `\\u00NN`, as JSON writes C0 (U+2028/U+2029 and the bidirectional
overrides and isolates as `\\uNNNN`). A reply `curl` prints to a terminal
then carries no control character the terminal would obey (U+009B is its CSI), and a client's
parser reads back the very text ingested. Server-sent events use the same escaping (api/sse.py)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from api.controls import escape_json_controls


def json_bytes(content: Any) -> bytes:
    """`content` as compact UTF-8 JSON with no raw control character."""
    dumped = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return escape_json_controls(dumped).encode("utf-8")


class SafeJSONResponse(JSONResponse):
    """The app's JSON response (its `default_response_class`, and every explicit JSON reply)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)
