#!/usr/bin/env bash
# tailguard's reference LM and its Binoculars observer, from a clean checkout, in one command:
#
#   npm run train:reference-lm [-- train.py flags for both runs, e.g. --dim 512 --layers 8]
#
# Needs ../shared/corpora/human (or CORPUS=...), Node deps (npm ci) and PyTorch for /usr/bin/python3
# (Debian 12: apt-get install python3-torch libopenblas0-pthread). Steps: tokenizer + token streams → the reference LM
# (3,400 steps, bf16 autocast as it was trained; on a CPU without native bf16 pass STAGE1_DTYPE=fp32, which gives
# nearly but not bit-identical weights) → models/NAME (ONNX, safetensors, int8) → its sibling, warm-started from it
# with another data order (seed) and a short constant-then-decay schedule → models/NAME-observer (fp32 ONNX graph) →
# held-out evaluation of both with tailguard's engine → model cards.
# Environment: NAME (model directory name), CORPUS, DATA (work folder, default tmp/train-lm), PYTHON, STAGE1_DTYPE.
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=${NAME:-tailguard-ref-6m}
OBSERVER=$NAME-observer
CORPUS=${CORPUS:-../shared/corpora/human}
DATA=${DATA:-tmp/train-lm}
PYTHON=${PYTHON:-/usr/bin/python3}
STAGE1_DTYPE=${STAGE1_DTYPE:-bf16}
MODEL=models/$NAME
# The observer as shipped (see models/$NAME-observer/README.md): other windows (seed 2), rewarm, constant LR, linear decay.
SIBLING=(--seed 2 --schedule wsd --steps 400 --decay-steps 200 --lr 4e-4 --min-lr 3e-5 --warmup 50 --dtype fp32 --eval-every 50)

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
  echo "error: $PYTHON cannot import torch and numpy; on Debian 12: apt-get install python3-torch libopenblas0-pthread" >&2
  exit 2
fi
[ -f "$CORPUS/heldout.jsonl" ] || { echo "error: no corpus at $CORPUS (set CORPUS=...)" >&2; exit 2; }

run() { echo "+ $*" >&2; "$@"; }
run node --max-old-space-size=12000 --import tsx scripts/train-lm/prepare-data.ts --corpus "$CORPUS" --out "$DATA"
run "$PYTHON" scripts/train-lm/train.py --data "$DATA" --run run --dtype "$STAGE1_DTYPE" "$@"
rm -rf "$MODEL"
run node --import tsx scripts/convert-llama2c.ts --bin "$DATA/run/model.bin" --tokenizer "$DATA/tokenizer" --out "$MODEL" --name "$NAME" --card none
run node --import tsx scripts/quantize-int8.ts --model "$MODEL"
run "$PYTHON" scripts/train-lm/train.py --data "$DATA" --run observer --init "$MODEL/model.safetensors" "${SIBLING[@]}" "$@"
rm -rf "$DATA/observer-model" "models/$OBSERVER"
run node --import tsx scripts/convert-llama2c.ts --bin "$DATA/observer/model.bin" --tokenizer "$DATA/tokenizer" --out "$DATA/observer-model" --name "$OBSERVER" --card none
# The observer ships as its fp32 graph only (no safetensors, no int8: models/ stays small).
mkdir -p "models/$OBSERVER"
cp -r "$DATA/observer-model/onnx" "$DATA/observer-model/"{config.json,generation_config.json,tokenizer.json,tokenizer_config.json,special_tokens_map.json} "models/$OBSERVER/"
rm -f "models/$OBSERVER/onnx/model_quantized.onnx"
mkdir -p bench/results
run node --import tsx bench/heldout-bpb.ts --model "$MODEL" --model "$MODEL:onnx/model_quantized.onnx" --model "models/$OBSERVER" \
  --heldout "$CORPUS/heldout.jsonl" --json "bench/results/$NAME-heldout.json" --zero-shot "$MODEL" --speed 3 --keep-scores "tmp/detect-eval/$NAME/heldout-scores" | tee "bench/results/$NAME-heldout.md"
run node --import tsx scripts/train-lm/write-card.ts --model "$MODEL" --data "$DATA" --eval "bench/results/$NAME-heldout.json" --observer "models/$OBSERVER" --observer-run observer
