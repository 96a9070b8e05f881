"""The cost-curve benchmark's table and plots (see eval/bench_scale.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODES = ("bm25", "dense", "hybrid")


def table(results: dict[str, Any]) -> str:
    """One row per size and mode: latency without and with `as_of`; the size's costs beside."""
    lines = ["| chunks | index | mode | p50 ms | p95 ms | as_of p50 | as_of p95 | B/chunk | "
             "build s | start s | update searchable s | recall@10 (as_of) |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in results["sizes"].values():
        for mode in MODES:
            m = row["modes"][mode]
            costs = (f"{row['bytes_per_chunk']:,} | {row['build_s']} | {row['startup_s']} | "
                     f"{row['searchable_s_median']} (max {row['searchable_s_max']}) | "
                     f"{row['recall_at_10']} ({row['recall_at_10_as_of']})") if mode == "hybrid" \
                else " | | | |"
            lines.append(f"| {row['chunks']:,} | {row['index']} | {mode} | {m['p50_ms']} | "
                         f"{m['p95_ms']} | {m['as_of_p50_ms']} | {m['as_of_p95_ms']} | {costs} |")
    return "\n".join(lines)


def plot(results: dict[str, Any], out: Path) -> list[Path]:
    """latency.png (p50 and p95 per mode against size, with as_of) and memory.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(results["sizes"].values(), key=lambda r: r["chunks"])
    sizes = [r["chunks"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode in MODES:
        for key, style in (("as_of_p95_ms", "-"), ("as_of_p50_ms", ":")):
            ax.plot(sizes, [r["modes"][mode][key] for r in rows], style, marker="o",
                    label=f"{mode} {key.split('_')[2]} (as_of)")
    ax.axhline(100, color="grey", lw=0.8, ls="--", label="target p95 at 1M")
    ax.set(xscale="log", xlabel="chunks", ylabel="ask latency, ms",
           title="Ask latency against corpus size (as_of filter on)")
    ax.legend(fontsize=7)
    paths = [out / "latency.png", out / "memory.png"]
    fig.savefig(paths[0], dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(sizes, [r["bytes_per_chunk"] for r in rows], marker="o", label="resident bytes per chunk")
    ax.axhline(3072, color="grey", lw=0.8, ls="--", label="target 3 KB")
    ax.set(xscale="log", xlabel="chunks", ylabel="bytes per chunk (beside text)",
           title="Resident memory per chunk against corpus size")
    ax.legend(fontsize=7)
    fig.savefig(paths[1], dpi=120, bbox_inches="tight")
    plt.close(fig)
    return paths


def main(argv: list[str] | None = None) -> None:
    """`python -m eval.scale_report RESULTS.json... --out DIR`: one table and one pair of plots
    from several runs of the benchmark (e.g. the small sizes and 1M, run apart)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m eval.scale_report", description=main.__doc__)
    parser.add_argument("results", type=Path, nargs="+", help="results.json files of bench_scale")
    parser.add_argument("--out", type=Path, required=True, help="where the plots go")
    args = parser.parse_args(argv)
    merged: dict[str, Any] = {"base": None, "sizes": {}}
    for path in args.results:
        run = json.loads(path.read_text())
        merged["base"] = merged["base"] or run["base"]
        merged["sizes"].update(run["sizes"])
    merged["sizes"] = dict(sorted(merged["sizes"].items(), key=lambda item: item[1]["chunks"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(merged, indent=2))
    print(table(merged))
    for path in plot(merged, args.out):
        print(f"plot: {path}")


if __name__ == "__main__":
    main()
