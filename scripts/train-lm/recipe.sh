#!/usr/bin/env bash
# tailguard's reference LMs, from a clean checkout, in one command:
#
#   npm run train:reference-lm [-- train.py flags for both stages, e.g. --dim 512 --layers 8]
#
# Needs ../shared/corpora/human (or CORPUS=...), Node deps (npm ci) and PyTorch for /usr/bin/python3
# (Debian 12: apt-get install python3-torch libopenblas0-pthread). Steps: tokenizer + token streams → stage 1 (the
# original 3,400-step run, bf16 autocast as it was trained; on a CPU without native bf16 pass STAGE1_DTYPE=fp32, which
# gives nearly but not bit-identical weights) → models/NAME-early (the Binoculars observer: stage 1, fp32 ONNX) →
# stage 2 (warm start from stage 1: constant LR, then a linear decay) → models/NAME (ONNX, safetensors, int8) →
# held-out evaluation with tailguard's engine → model cards.
# Environment: NAME (model directory name), CORPUS, DATA (work folder, default tmp/train-lm), PYTHON, STAGE1_DTYPE.
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=${NAME:-tailguard-ref-6m}
EARLY=$NAME-early
CORPUS=${CORPUS:-../shared/corpora/human}
DATA=${DATA:-tmp/train-lm}
PYTHON=${PYTHON:-/usr/bin/python3}
STAGE1_DTYPE=${STAGE1_DTYPE:-bf16}
MODEL=models/$NAME
# Stage 2 as shipped: see models/$NAME/README.md for the tokens, time and curve.
STAGE2=(--schedule wsd --steps 3400 --decay-steps 600 --lr 5e-4 --min-lr 3e-5 --warmup 200 --dtype fp32 --eval-every 100)

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
  echo "error: $PYTHON cannot import torch and numpy; on Debian 12: apt-get install python3-torch libopenblas0-pthread" >&2
  exit 2
fi
[ -f "$CORPUS/heldout.jsonl" ] || { echo "error: no corpus at $CORPUS (set CORPUS=...)" >&2; exit 2; }

run() { echo "+ $*" >&2; "$@"; }
run node --max-old-space-size=12000 --import tsx scripts/train-lm/prepare-data.ts --corpus "$CORPUS" --out "$DATA"
run "$PYTHON" scripts/train-lm/train.py --data "$DATA" --run run --dtype "$STAGE1_DTYPE" "$@"
rm -rf "$DATA/early" "models/$EARLY"
run node --import tsx scripts/convert-llama2c.ts --bin "$DATA/run/model.bin" --tokenizer "$DATA/tokenizer" --out "$DATA/early" --name "$EARLY" --card none
run "$PYTHON" scripts/train-lm/train.py --data "$DATA" --run stage2 --init "$DATA/early/model.safetensors" "${STAGE2[@]}" "$@"
rm -rf "$MODEL"
run node --import tsx scripts/convert-llama2c.ts --bin "$DATA/stage2/model.bin" --tokenizer "$DATA/tokenizer" --out "$MODEL" --name "$NAME" --card none
run node --import tsx scripts/quantize-int8.ts --model "$MODEL"
# The observer ships as its fp32 graph only (no safetensors: models/ stays under 100 MB).
mkdir -p "models/$EARLY"
cp -r "$DATA/early/onnx" "$DATA/early/"{config.json,generation_config.json,tokenizer.json,tokenizer_config.json,special_tokens_map.json} "models/$EARLY/"
mkdir -p bench/results
run node --import tsx bench/heldout-bpb.ts --model "$MODEL" --model "$MODEL:onnx/model_quantized.onnx" --model "models/$EARLY" \
  --heldout "$CORPUS/heldout.jsonl" --json "bench/results/$NAME-heldout.json" --zero-shot "$MODEL" --speed 3 --keep-scores "tmp/detect-eval/$NAME/heldout-scores" | tee "bench/results/$NAME-heldout.md"
run node --import tsx scripts/train-lm/write-card.ts --model "$MODEL" --data "$DATA" --stages run,stage2 --eval "bench/results/$NAME-heldout.json" --observer "models/$EARLY"
