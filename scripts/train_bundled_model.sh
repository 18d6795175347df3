#!/usr/bin/env bash
# Reproduces the bundled gene model (src/genet5/bundled/genet5-cpu) from ../shared/genomes.
# Three stages, ~45 min on 2 CPU cores when the machine is otherwise idle:
#   1. prokaryotes, phages, plastid: 300 steps from scratch (genet5-cpu preset), 30% of windows;
#   2. the same plus yeast (chromosomes I, III, VI removed): 1200 steps from stage 1, 35%;
#   3. the same genomes, every window: 2400 steps from stage 2 at a lower learning rate.
# Held out of both (validation): Vibrio cholerae RFB16, Mycoplasmoides alvi, the four Erwinia
# phages, and yeast chromosomes I, III, VI.
#
#   scripts/train_bundled_model.sh [SHARED_GENOMES] [WORK_DIR]
set -euo pipefail
SHARED=${1:-../shared/genomes}
WORK=${2:-runs/bundled}
GENET5=${GENET5:-.venv/bin/genet5}
PY=${PY:-.venv/bin/python}
HOLDOUT=(--holdout "Vibrio cholerae RFB16" --holdout "Mycoplasmoides alvi ATCC 29626"
         --holdout erwinia_phage_LT960552 --holdout erwinia_phage_MT939486
         --holdout erwinia_phage_MT939487 --holdout erwinia_phage_MT939488)

$PY scripts/make_training_sets.py "$SHARED" "$WORK/sets"

$GENET5 bake "$WORK/sets/prok/manifest.tsv" "$WORK/bake_prok" --window 2048 --overlap 256 \
    --subset 0.3 --workers 2 "${HOLDOUT[@]}"
$GENET5 train "$WORK/bake_prok" --out "$WORK/stage1" --preset genet5-cpu --threads 2 \
    --set optim.lr=2e-3 --set optim.min_lr=2e-4 --set optim.warmup_steps=30 \
    --set train.max_steps=300 --set train.checkpoint_every=50 --set train.eval_every=100 \
    --set data.token_budget=8192

$GENET5 bake "$WORK/sets/mix/manifest.tsv" "$WORK/bake_mix" --window 2048 --overlap 256 \
    --subset 0.35 --workers 2 "${HOLDOUT[@]}"
$GENET5 train "$WORK/bake_mix" --out "$WORK/stage2" --init "$WORK/stage1/model" --threads 2 \
    --set optim.lr=1.5e-3 --set optim.min_lr=1e-4 --set optim.warmup_steps=30 \
    --set train.max_steps=1200 --set train.checkpoint_every=100 --set train.eval_every=200 \
    --set data.token_budget=8192

$GENET5 bake "$WORK/sets/mix/manifest.tsv" "$WORK/bake_mix_full" --window 2048 --overlap 256 \
    --subset 1.0 --workers 2 "${HOLDOUT[@]}"
$GENET5 train "$WORK/bake_mix_full" --out "$WORK/stage3" --init "$WORK/stage2/model" --threads 2 \
    --set optim.lr=1e-3 --set optim.min_lr=5e-5 --set optim.warmup_steps=50 \
    --set train.max_steps=2400 --set train.checkpoint_every=200 --set train.eval_every=400 \
    --set data.token_budget=8192

echo "model: $WORK/stage3/model (copy config.json and model.safetensors to src/genet5/bundled/genet5-cpu/)"
