"""Control characters in article text (and in a server's replies) are data: wherever newsqa
writes text for a terminal or a spreadsheet (the HTTP API's replies too, which `curl` prints),
ESC, BEL, CR, DEL and the C1 controls (U+0080 to U+009F, where U+009B is a terminal's CSI) are
written as visible escapes instead. For a terminal or a spreadsheet so are the bidirectional
overrides and isolates (U+202A to U+202E, U+2066 to U+2069), which would show "12" as "21"
("Trojan Source"); the direction marks U+200E/U+200F, which reorder nothing, stay. Standard
library only: `newsqa ask --server` imports it."""

from __future__ import annotations

import json
import re

_BIDI = "\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates and their ends
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")  # all but tab and newline
_CONTROL_BUT_CRLF = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]|\r(?!\n)")
# What json.dumps(ensure_ascii=False) leaves raw and a reader should not get raw: DEL and C1, the
# line and paragraph separators (a line break to JavaScript before ES2019 and to many log
# viewers) and the bidirectional overrides and isolates.
_JSON_RAW = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with each control character but tab and newline written as `\\xNN`, and each
    bidirectional override or isolate as `\\uNNNN`."""
    return _CONTROL.sub(_visible, text)


def escape_controls_but_crlf(text: str) -> str:
    """`escape_controls`, keeping CR LF line ends (CSV's, RFC 4180) as they are."""
    return _CONTROL_BUT_CRLF.sub(_visible, text)


def escape_json_controls(dumped: str) -> str:
    """JSON text `dumped` with its raw DEL, C1, U+2028/U+2029 and bidirectional overrides and
    isolates written as `\\uNNNN`, as JSON writes C0: a parser reads back the very same strings
    (outside strings, JSON text is ASCII)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def json_text(body: object) -> str:
    """`body` as indented JSON with no raw control character."""
    return escape_json_controls(json.dumps(body, indent=2, ensure_ascii=False))
