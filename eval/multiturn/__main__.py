"""`python -m eval.multiturn`: follow-up accuracy with and without query rewriting."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval.multiturn import CONVERSATIONS, TurnResult, demo_service, load_conversations, run, score


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.multiturn", description=__doc__)
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS)
    parser.add_argument("--embedder", choices=("model", "hashing"), default="model",
                        help="'model' (all-MiniLM-L6-v2, the default) or 'hashing' (no model).")
    parser.add_argument("--json", type=Path, help="Also write every turn's result here.")
    parser.add_argument("--show-misses", action="store_true",
                        help="Print each follow-up answered wrongly.")
    return parser.parse_args()


def _line(label: str, results: list[TurnResult]) -> str:
    s = score(results)
    return (f"{label:<18} follow-ups right {s.followups_right:>3}/{s.followups:<3} "
            f"({s.followup_accuracy:6.1%}); after a right answer {s.after_right_right}/"
            f"{s.after_right}; opening questions right {s.opening_right}/{s.openings}; "
            f"new-topic questions right {s.new_topic_right}/{s.new_topics}, read as follow-ups "
            f"{s.mistaken}")


def main() -> None:
    args = _parse()
    from index.embed import HashingEmbedder
    from qa.settings import Settings

    conversations = load_conversations(args.conversations)
    embedder = HashingEmbedder() if args.embedder == "hashing" else None
    settings = Settings(embedder=args.embedder)
    with demo_service(embedder, settings) as service:
        plain = run(service, conversations, rewrite=False)
        rewritten = run(service, conversations, rewrite=True)
    print(f"{len(conversations)} conversations, embedder {service.model_name}")
    print(_line("without rewriting", plain))
    print(_line("with rewriting", rewritten))
    if args.show_misses:
        for label, results in (("without", plain), ("with", rewritten)):
            for r in results:
                if r.index > 0 and (not r.right or (r.new_topic and r.read_as_followup)):
                    kind = "new topic" if r.new_topic else "follow-up"
                    print(f"  miss ({label}, {kind}) {r.conversation}#{r.index}: {r.question!r} "
                          f"-> query {r.query!r}\n      answer: {r.answer[:160]!r}")
    if args.json:
        rows = [{"rewrite": label == "with", **vars(r)}
                for label, results in (("without", plain), ("with", rewritten)) for r in results]
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
