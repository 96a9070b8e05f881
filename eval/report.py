"""The files of an ``newsqa eval`` run: metrics.json, report.md, questions.jsonl and three PNG
plots (hit@k, latency, and abstention against the abstention threshold).

``metrics.json`` holds ``{"n_questions", "n_unanswerable", "n_chunks", "modes": {mode: {metric:
value}}, "index": {...}, "config": {...}}``; ``abstain_rate`` is over the answerable questions,
``abstain_unanswerable`` over those whose gold answer is in no article; metric values are
numbers or null (not measurable on that run). ``questions.jsonl`` has one line per question
(answerable or not): its id and, per mode, the rank of the first passage holding the answer,
where the answer was, the latency, and the answer's confidence and abstention signals, so two
runs can be compared question by question and the abstention model refitted
(``python -m eval.calibrate``). Only scores, ids and configuration are written, never article or question
text; every name and value in report.md is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Metrics = Mapping[str, Mapping[str, float | None]]

# (column header, metric key, format)
COLUMNS = (
    ("hit@1", "hit@1", ".3f"),
    ("hit@5", "hit@5", ".3f"),
    ("hit@10", "hit@10", ".3f"),
    ("hit@20", "hit@20", ".3f"),
    ("MRR@10", "mrr@10", ".3f"),
    ("nDCG@10", "ndcg@10", ".3f"),
    ("gold@5", "gold@5", ".3f"),
    ("answer-acc", "answer_acc", ".3f"),
    ("1st-sentence", "first_sentence_acc", ".3f"),
    ("sentences", "mean_sentences", ".2f"),
    ("MC-acc", "mc_acc", ".3f"),
    ("citation-valid", "citation_valid", ".3f"),
    ("abstain", "abstain_rate", ".3f"),
    ("abstain-unans", "abstain_unanswerable", ".3f"),
    ("p50 ms", "p50_ms", ".0f"),
    ("p95 ms", "p95_ms", ".0f"),
)
MISSING = "n/a"


def write_report(
    out_dir: Path,
    metrics: Metrics,
    config: Mapping[str, Any],
    latencies: Mapping[str, Sequence[float]],
    hit_curves: Mapping[str, Mapping[int, float]],
    extra: Mapping[str, Any] | None = None,
    places: Metrics | None = None,
    per_question: Sequence[Mapping[str, Any]] = (),
    abstention: Mapping[str, Sequence[tuple[float, float | None, float | None]]] | None = None,
) -> list[Path]:
    """Write the run's report files into out_dir (created if needed); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        _write_json(out_dir / "metrics.json", metrics, config, extra or {}),
        _write_markdown(out_dir / "report.md", metrics, config, places or {}),
        _plot_hit_curves(out_dir / "hit_at_k.png", hit_curves),
        _plot_latencies(out_dir / "latency.png", latencies),
        _plot_abstention(out_dir / "abstention.png", abstention or {},
                         (extra or {}).get("abstention_threshold")),
        _write_jsonl(out_dir / "questions.jsonl", per_question),
    ]


def _write_json(path: Path, metrics: Metrics, config: Mapping[str, Any],
                extra: Mapping[str, Any]) -> Path:
    payload = {**extra, "modes": metrics, "config": config}
    text = json.dumps(payload, indent=2, sort_keys=True, allow_nan=False, default=_jsonable)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    lines = (json.dumps(row, sort_keys=True, allow_nan=False, default=_jsonable) for row in rows)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _jsonable(value: Any) -> Any:
    """numpy scalars as Python numbers; anything else (paths, dates) as its string."""
    return value.item() if hasattr(value, "item") else str(value)


def markdown_table(metrics: Metrics) -> str:
    """One row per mode, one column per metric."""
    header = "| mode | " + " | ".join(title for title, _, _ in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    rows = [
        f"| {escape(mode)} | "
        + " | ".join(_number(scores.get(key), fmt) for _, key, fmt in COLUMNS)
        + " |"
        for mode, scores in metrics.items()
    ]
    return "\n".join([header, rule, *rows])


def _number(value: float | None, fmt: str) -> str:
    return MISSING if value is None else format(value, fmt)


def escape(value: object) -> str:
    """Text safe inside a Markdown table cell or list item: no HTML, markup or line breaks."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    for char in "\\`*_[]|#~":
        text = text.replace(char, f"\\{char}")
    return text


def _flat(config: Mapping[str, Any], prefix: str = "") -> list[tuple[str, object]]:
    """Nested settings as dotted keys; lists and tuples as comma-separated values."""
    items: list[tuple[str, object]] = []
    for key, value in sorted(config.items()):
        if isinstance(value, Mapping):
            items += _flat(value, f"{prefix}{key}.")
        elif isinstance(value, list | tuple):
            items.append((f"{prefix}{key}", ", ".join(str(v) for v in value)))
        else:
            items.append((f"{prefix}{key}", value))
    return items


def places_table(places: Metrics) -> str:
    """Per mode, the share of questions by where the answer was (see ``answer_places``)."""
    kinds = list(dict.fromkeys(kind for shares in places.values() for kind in shares))
    header = "| mode | " + " | ".join(escape(kind) for kind in kinds) + " |"
    rule = "|---|" + "---:|" * len(kinds)
    rows = [f"| {escape(mode)} | " + " | ".join(_number(shares.get(kind), ".3f") for kind in kinds)
            + " |" for mode, shares in places.items()]
    return "\n".join([header, rule, *rows])


def _write_markdown(path: Path, metrics: Metrics, config: Mapping[str, Any],
                    places: Metrics) -> Path:
    settings = [f"- {escape(key)}: {escape(value)}" for key, value in _flat(config)]
    where = ["## Where the answers were", "",
             "Share of questions, by the first place that applies: a top-5 passage; another "
             "passage of an article in the top 5; a passage at ranks 6-20; not retrieved.", "",
             places_table(places), ""] if any(places.values()) else []
    lines = [
        "# newsqa evaluation",
        "",
        markdown_table(metrics),
        "",
        f"{MISSING}: not measurable on that run (no gold articles, no choices or no quotes).",
        "",
        *where,
        "## Configuration",
        "",
        *settings,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _plot_hit_curves(path: Path, hit_curves: Mapping[str, Mapping[int, float]]) -> Path:
    figure, axes = _figure()
    for mode, curve in hit_curves.items():
        ks = sorted(curve)
        axes.plot(ks, [curve[k] for k in ks], marker="o", markersize=3, label=_label(mode))
    axes.set(xlabel="k (passages read)", ylabel="hit@k", ylim=(0, 1), title="Answer in top k")
    _finish(figure, axes, path, has_data=any(hit_curves.values()))
    return path


def _plot_latencies(path: Path, latencies: Mapping[str, Sequence[float]]) -> Path:
    figure, axes = _figure()
    modes = [mode for mode, values in latencies.items() if len(values)]
    if modes:
        axes.boxplot([list(latencies[m]) for m in modes], tick_labels=[_label(m) for m in modes])
    axes.set(ylabel="latency (ms)", title="Latency per question")
    _finish(figure, axes, path, has_data=bool(modes))
    return path


def _plot_abstention(path: Path,
                     curves: Mapping[str, Sequence[tuple[float, float | None, float | None]]],
                     chosen: float | None) -> Path:
    """Abstention rates on answerable and unanswerable questions against the threshold."""
    figure, axes = _figure()
    for mode, curve in curves.items():
        points = [(t, a, u) for t, a, u in curve if a is not None]
        if not points:
            continue
        line = axes.plot([t for t, _, _ in points], [a for _, a, _ in points], marker="o",
                         markersize=3, label=f"{_label(mode)}: answerable")[0]
        if any(u is not None for _, _, u in points):
            axes.plot([t for t, _, u in points if u is not None],
                      [u for _, _, u in points if u is not None], linestyle="--", marker="s",
                      markersize=3, color=line.get_color(), label=f"{_label(mode)}: unanswerable")
    if chosen is not None:
        axes.axvline(chosen, color="grey", linewidth=1, linestyle=":")
        axes.text(chosen, 0.98, f" default {chosen:g}", va="top", fontsize=8, color="grey")
    axes.set(xlabel="abstention threshold (confidence below it abstains)",
             ylabel="share of questions abstained on", ylim=(0, 1),
             title="Abstention against the threshold")
    _finish(figure, axes, path, has_data=any(curves.values()))
    return path


def _figure() -> tuple[Any, Any]:
    # A bare Figure renders with Agg on savefig: no pyplot state, no global backend switch.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    return figure, figure.add_subplot()


def _label(mode: str) -> str:
    return mode.replace("$", r"\$")  # "$" would start matplotlib mathtext


def _finish(figure: Any, axes: Any, path: Path, *, has_data: bool) -> None:
    if has_data and axes.get_legend_handles_labels()[0]:
        axes.legend()
    if not has_data:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.grid(alpha=0.3)
    figure.savefig(path, format="png", dpi=100)
