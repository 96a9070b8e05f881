"""The named errors of the index layer: a data directory or a model that cannot be used as
configured. Each message says what was wrong, with the value, and what to change.

The CLI and the API translate these in one place each (api/cli_errors.py, api/errors.py).
"""

from __future__ import annotations


class IndexSetupError(RuntimeError):
    """Base of the index errors: fixed by configuration (model, data directory), not by input."""


class CollectionMismatch(IndexSetupError):
    """The data directory or the search engine was built with another embedding model or
    dimension."""


class EmbedderUnavailable(IndexSetupError):
    """The embedding model could not be loaded."""


class StoreUnavailable(IndexSetupError):
    """The configured records database cannot be opened or reached, or lacks its driver."""


class MigrationRefused(IndexSetupError):
    """A copy to another store was refused (the target holds data) or did not check out."""


class DocumentRefused(ValueError):
    """The search engine cannot hold a document as written (Milvus: its search text is over
    the text field's size); nothing of the write was stored."""
