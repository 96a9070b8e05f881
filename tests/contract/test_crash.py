"""A writer killed at any point of a write leaves nothing half-present: after a restart, the
search engine holds exactly the documents the store committed, on both engines.

The writer runs in a child process and dies (os._exit, as a kill would: no cleanup runs)
right after the engine took the new document, or right after the store committed it. Milvus
is a Milvus Lite server both processes connect to, as API replicas do: it outlives the writer.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.collection import Collection, MilvusTarget
from tests.conftest import ROOT
from tests.contract.conftest import milvus_available
from tests.contract.test_engines import corpus, ranked, unit
from tests.ports import serve, stop

KILLED_WRITER = """
import os, sys
from contextlib import contextmanager
from pathlib import Path
import numpy as np
from index.collection import Batch, Collection, MilvusTarget
from index.store import NewDoc, Store

data, uri, name, point = sys.argv[1:5]
collection = Collection(Path(data), "fake", 4, milvus=MilvusTarget(uri, name) if uri else None)
if point == "after-engine":
    engine = type(collection.engine)
    upsert = engine.upsert
    def dying_upsert(self, docs):
        upsert(self, docs)
        if docs:
            os._exit(9)
    engine.upsert = dying_upsert
else:
    transaction = Store.transaction
    @contextmanager
    def dying_transaction(self):
        with transaction(self) as conn:
            yield conn
        os._exit(9)
    Store.transaction = dying_transaction
vector = np.asarray([0, 0, 0.7071, 0.7071], dtype=np.float32)
collection.write(Batch(docs=[NewDoc("art9|body|h1|0", "Harbour crane collapse", vector, time=400.0)]))
raise SystemExit("the writer was not killed")
"""


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not milvus_available():
        pytest.skip("Milvus Lite is not installed: pip install -e '.[scale]'")
    folder = tmp_path_factory.mktemp("milvus-server")
    server, port = serve(
        lambda port: ["-m", "index.milvus_server", str(folder / f"milvus-{port}.db"), str(port)],
        {}, folder / "milvus.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


@pytest.mark.parametrize("point", ["after-engine", "after-commit"])
@pytest.mark.parametrize("engine", ["embedded", "milvus"])
def test_a_writer_killed_mid_write_leaves_nothing_half_present(
        engine: str, point: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    uri = request.getfixturevalue("milvus_server") if engine == "milvus" else ""
    name = f"crash_{point.replace('-', '_')}"

    def open_collection() -> Collection:
        return Collection(tmp_path, "fake", 4, milvus=MilvusTarget(uri, name) if uri else None)

    first = open_collection()
    articles = corpus(first)
    first.close()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(tmp_path),
                           uri, name, point], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 9, done.stderr[-2000:]

    reopened = open_collection()
    try:
        stored = np.concatenate([b.ids for b in reopened.store.iter_times()]).tolist()
        assert reopened.ids() == stored  # no id the store lacks, none it has missing
        # the store commits first: killed at either point, the article was committed whole,
        # and the restart made it searchable
        (crane,) = set(stored) - set(articles)
        articles[crane] = "art9"
        assert ranked(reopened, articles, "crane", "bm25") == ["art9"]
        assert ranked(reopened, articles, "x", "dense", vector=unit(0, 0, 1, 1), k=1) == ["art9"]
        assert reopened.get([crane])[crane].text == "Harbour crane collapse"
    finally:
        if uri:
            reopened.engine.drop()  # type: ignore[attr-defined]
        reopened.close()
