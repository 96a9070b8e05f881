"""The named errors of the benchmark layer. The CLI translates them in one place
(api/cli_errors.py)."""

from __future__ import annotations


class DatasetError(Exception):
    """A dataset that cannot be read; the message names the path, the problem and the fix."""
