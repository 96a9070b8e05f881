"""Control characters in article text (and in a server's replies) are data: wherever newsqa
writes text for a terminal or a spreadsheet (the HTTP API's replies too, which `curl` prints),
ESC, BEL, CR, DEL and the C1 controls (U+0080 to U+009F, where U+009B is a terminal's CSI) are
written as visible escapes instead. Standard library only: `newsqa ask --server` imports it."""

from __future__ import annotations

import json
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline
_CONTROL_BUT_CRLF = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
_JSON_RAW = re.compile(r"[\x7f-\x9f]")  # what json.dumps(ensure_ascii=False) leaves raw


def escape_controls(text: str) -> str:
    """`text` with each control character but tab and newline written as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape_controls_but_crlf(text: str) -> str:
    """`escape_controls`, keeping CR LF line ends (CSV's, RFC 4180) as they are."""
    return _CONTROL_BUT_CRLF.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape_json_controls(dumped: str) -> str:
    """JSON text `dumped` with its raw DEL and C1 written as `\\u00NN`, as JSON writes C0: a
    parser reads back the very same strings (outside strings, JSON text is ASCII)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def json_text(body: object) -> str:
    """`body` as indented JSON with no raw control character."""
    return escape_json_controls(json.dumps(body, indent=2, ensure_ascii=False))
