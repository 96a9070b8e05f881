"""Both search engines behind one Collection: the embedded one, and Milvus Lite started by the
tests in a temporary folder (one Milvus Lite per test session, one Milvus collection per test)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.collection import Collection, MilvusTarget

ENGINES = ["embedded", "milvus"]
_names = itertools.count()

OpenCollection = Callable[..., Collection]


def milvus_available() -> bool:
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Milvus Lite database file; the first client to open it starts the engine."""
    if not milvus_available():
        pytest.skip("Milvus Lite is not installed: pip install -e '.[scale]'")
    return str(tmp_path_factory.mktemp("milvus") / "contract.db")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_collection(engine: str, request: pytest.FixtureRequest,
                    tmp_path: Path) -> Iterator[OpenCollection]:
    """Opens Collections on one data directory (and, for Milvus, one Milvus collection), as
    a restarted process would; closes them and drops the Milvus collection afterwards."""
    opened: list[Collection] = []
    uri = request.getfixturevalue("milvus_uri") if engine == "milvus" else None
    name = f"contract_{next(_names)}"

    def open_(dim: int = 4, **kwargs: object) -> Collection:
        target = None if uri is None else MilvusTarget(uri, name)
        collection = Collection(tmp_path, "fake", dim, milvus=target, **kwargs)  # type: ignore[arg-type]
        opened.append(collection)
        return collection

    yield open_
    if uri is not None and opened:
        opened[-1].engine.drop()  # type: ignore[attr-defined]
    for collection in opened:
        collection.close()
