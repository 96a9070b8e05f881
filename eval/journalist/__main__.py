"""`python -m eval.journalist`: right and wrong answers per kind of journalist question."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.journalist import QUESTIONS, journalist_service, load_cases, per_kind, run


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.journalist", description=__doc__)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--embedder", choices=("model", "hashing"), default="model",
                        help="'model' (all-MiniLM-L6-v2, the default) or 'hashing' (no model).")
    parser.add_argument("--show-misses", action="store_true", help="Print each wrong answer.")
    parser.add_argument("--json", type=Path, help="Also write every question's result here.")
    parser.add_argument("--min-right", type=float, default=0.0,
                        help="Exit 1 when a kind's share of right answers is below this.")
    return parser.parse_args()


def main() -> None:
    args = _parse()
    from index.embed import HashingEmbedder
    from qa.settings import Settings

    cases = load_cases(args.questions)
    embedder = HashingEmbedder() if args.embedder == "hashing" else None
    with journalist_service(embedder, Settings(embedder=args.embedder)) as service:
        results = run(service, cases)
        name = service.model_name
    print(f"{len(cases)} questions, embedder {name}")
    below = []
    for kind, (right, asked) in per_kind(results).items():
        print(f"{kind:<17} right {right:>2}/{asked:<2} ({right / asked:6.1%})  wrong {asked - right}")
        if right / asked < args.min_right:
            below.append(kind)
    total = sum(r.right for r in results)
    print(f"{'all':<17} right {total:>2}/{len(results):<2} ({total / len(results):6.1%})")
    if args.show_misses:
        for r in results:
            if not r.right:
                print(f"  miss {r.case.id}: {r.case.question!r} ({r.why})\n"
                      f"      answer: {r.answer[:220]!r}")
    if args.json:
        rows = [{"id": r.case.id, "kind": r.case.kind, "question": r.case.question,
                 "answer": r.answer, "abstained": r.abstained, "cited": r.cited, "right": r.right,
                 "why": r.why} for r in results]
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    if below:
        print(f"below {args.min_right:.0%}: {', '.join(below)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
