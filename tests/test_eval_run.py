"""The benchmark end to end on tiny datasets in both layouts (hashing embedder: seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from eval.run import EvalConfig, run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
KEYS = {"hit@1", "hit@5", "hit@10", "hit@20", "mrr@10", "ndcg@10", "answer_acc", "mc_acc",
        "citation_valid", "abstain_rate", "p50_ms", "p95_ms", "first_sentence_acc",
        "mean_sentences", "abstain_unanswerable"}


@pytest.mark.parametrize("layout", ["eval_realtimeqa", "eval_generic"])
def test_a_small_dataset_runs_end_to_end(tmp_path: Path, layout: str) -> None:
    config = EvalConfig(dataset=FIXTURES / layout, out=tmp_path / "run", embedder="hashing",
                        cache_dir=tmp_path / "cache", progress=False)
    result = run(config, log=lambda _: None)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_questions"] == result["n_questions"] > 0
    assert metrics["n_chunks"] > 0
    assert set(metrics["modes"]) == {"bm25", "dense", "hybrid"}
    for scores in metrics["modes"].values():
        assert set(scores) >= KEYS
        assert scores["citation_valid"] in (1.0, None)
        assert 0 <= scores["hit@1"] <= scores["hit@5"] <= scores["hit@20"] <= 1
    for mode, places in metrics["answer_places"].items():  # shares of all questions, whole
        assert places["top 5"] == pytest.approx(metrics["modes"][mode]["hit@5"])
        assert sum(places.values()) == pytest.approx(1.0)
    rows = [json.loads(line) for line in (tmp_path / "run" / "questions.jsonl").open()]
    assert len(rows) == metrics["n_questions"] + metrics["n_unanswerable"]
    assert sum(not r["answerable"] for r in rows) == metrics["n_unanswerable"]
    rows = [r for r in rows if r["answerable"]]
    for mode, scores in metrics["modes"].items():  # the per-question ranks add up to hit@5
        top5 = [r["modes"][mode]["first_relevant_rank"] for r in rows]
        assert sum(rank is not None and rank <= 5 for rank in top5) / len(rows) == pytest.approx(
            scores["hit@5"])
    assert {"chunks_per_s", "peak_rss_mb"} <= set(metrics["index"])
    for name in ("report.md", "hit_at_k.png", "latency.png", "abstention.png"):
        assert (tmp_path / "run" / name).stat().st_size > 0


def test_questions_answered_by_no_article_are_asked_for_abstention(tmp_path: Path) -> None:
    config = EvalConfig(dataset=FIXTURES / "eval_realtimeqa", out=tmp_path / "run",
                        embedder="hashing", cache_dir=tmp_path / "cache", progress=False)
    run(config, log=lambda _: None)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_unanswerable"] == metrics["left_out"]["answer not in corpus"] == 1
    for scores in metrics["modes"].values():
        assert scores["abstain_unanswerable"] in (0.0, 1.0)  # one question: abstained or not
    unanswerable = [json.loads(line) for line in (tmp_path / "run" / "questions.jsonl").open()
                    if not json.loads(line)["answerable"]]
    assert set(unanswerable[0]["modes"]) == {"bm25", "dense", "hybrid"}
    assert "sentence_coverage" in unanswerable[0]["modes"]["hybrid"]


def test_the_second_run_embeds_nothing_and_gives_the_same_numbers(tmp_path: Path) -> None:
    def once(out: str) -> dict:
        config = EvalConfig(dataset=FIXTURES / "eval_generic", out=tmp_path / out,
                            embedder="hashing", cache_dir=tmp_path / "cache", progress=False)
        return run(config, log=lambda _: None)

    first, second = once("a"), once("b")
    assert first["index"]["newly_embedded"] > 0 and second["index"]["newly_embedded"] == 0
    strip = {"p50_ms", "p95_ms"}
    for mode in first["modes"]:
        assert {k: v for k, v in first["modes"][mode].items() if k not in strip} == {
            k: v for k, v in second["modes"][mode].items() if k not in strip}


def test_cli_names_a_bad_mode(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--dataset", str(FIXTURES / "eval_generic"),
                                      "--modes", "bm25,magic", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "magic" in result.output
