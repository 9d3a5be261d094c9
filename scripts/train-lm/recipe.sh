#!/usr/bin/env bash
# tailguard's reference LM, from a clean checkout, in one command:
#
#   npm run train:reference-lm [-- train.py flags, e.g. --steps 20000 --dim 512 --layers 8]
#
# Needs ../shared/corpora/human (or CORPUS=...), Node deps (npm ci) and PyTorch for /usr/bin/python3
# (Debian 12: apt-get install python3-torch libopenblas0-pthread). Steps: tokenizer + token streams → training →
# conversion (ONNX + safetensors) → int8 variant → held-out evaluation with tailguard's engine → model card.
# Environment: NAME (model directory name), CORPUS, DATA (work folder, default tmp/train-lm), PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=${NAME:-tailguard-ref-6m}
CORPUS=${CORPUS:-../shared/corpora/human}
DATA=${DATA:-tmp/train-lm}
PYTHON=${PYTHON:-/usr/bin/python3}
MODEL=models/$NAME

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
  echo "error: $PYTHON cannot import torch and numpy; on Debian 12: apt-get install python3-torch libopenblas0-pthread" >&2
  exit 2
fi
[ -f "$CORPUS/heldout.jsonl" ] || { echo "error: no corpus at $CORPUS (set CORPUS=...)" >&2; exit 2; }

run() { echo "+ $*" >&2; "$@"; }
run node --max-old-space-size=12000 --import tsx scripts/train-lm/prepare-data.ts --corpus "$CORPUS" --out "$DATA"
run "$PYTHON" scripts/train-lm/train.py --data "$DATA" "$@"
rm -rf "$MODEL"
run node --import tsx scripts/convert-llama2c.ts --bin "$DATA/run/model.bin" --tokenizer "$DATA/tokenizer" --out "$MODEL" --name "$NAME" --card none
run node --import tsx scripts/quantize-int8.ts --model "$MODEL"
mkdir -p bench/results
run node --import tsx bench/heldout-bpb.ts --model "$MODEL" --model "$MODEL:onnx/model_quantized.onnx" \
  --heldout "$CORPUS/heldout.jsonl" --json "bench/results/$NAME-heldout.json" --zero-shot "$MODEL" --speed 3 --keep-scores "tmp/detect-eval/$NAME/heldout-scores" | tee "bench/results/$NAME-heldout.md"
run node --import tsx scripts/train-lm/write-card.ts --model "$MODEL" --data "$DATA" --eval "bench/results/$NAME-heldout.json"
