#!/usr/bin/env bash
# GPU bulk embedding, measured on a machine with a CUDA GPU (never part of the tests):
# a plain fp32 sentence-transformers encode on the GPU against newsqa's fp16 bulk path
# (length-sorted batches of 1024, tokenised ahead by a thread), on real news chunks from the
# RealTimeQA slice, with the agreement of the fp16 vectors to fp32. Prints a table; the figures
# also go to $OUT/bench-gpu-embed.json when OUT is set.
# Usage: scripts/bench-gpu-embed.sh [../shared/data/realtimeqa-2022] [chunks]
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=${1:-../shared/data/realtimeqa-2022}
CHUNKS=${2:-20000}
PY=${PYTHON:-.venv/bin/python}
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible to torch')"
"$PY" -m eval.bench_embed --gpu-only --dataset "$DATASET" --chunks "$CHUNKS" --rounds 3 \
    --batch-size "${BATCH:-1024}" ${OUT:+--json "$OUT/bench-gpu-embed.json"}
