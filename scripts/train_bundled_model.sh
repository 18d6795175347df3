#!/usr/bin/env bash
# Reproduces the bundled gene model (src/genet5/bundled/genet5-cpu) from ../shared/genomes.
# Three stages, ~45 min on 2 CPU cores when the machine is otherwise idle:
#   1. prokaryotes, phages, plastid: 300 steps from scratch (genet5-cpu preset), 30% of windows;
#   2. the same plus yeast (chromosomes I, III, VI removed): 1200 steps from stage 1, 35%;
#   3. the same genomes, every window: 2400 steps from stage 2 at a lower learning rate.
# The split is ../shared/genomes/splits.tsv (scripts/make_training_sets.py copies the rows it
# writes to WORK/sets/splits.tsv; `bake --splits` holds out the `validation` ones): Vibrio
# cholerae RFB16, Mycoplasmoides alvi and the four Erwinia phages go to the bakes' valid/.
# --bundled also leaves yeast chromosomes I, III, VI (`train` in splits.tsv) and Bradyrhizobium
# (added to the collection later) out of training, as the bundled network was trained; drop it
# to train on every `train` genome of these groups.
#
#   scripts/train_bundled_model.sh [SHARED_GENOMES] [WORK_DIR]
set -euo pipefail
SHARED=${1:-../shared/genomes}
WORK=${2:-runs/bundled}
GENET5=${GENET5:-.venv/bin/genet5}
PY=${PY:-.venv/bin/python}

$PY scripts/make_training_sets.py "$SHARED" "$WORK/sets" --bundled
SPLIT=(--splits "$WORK/sets/splits.tsv")

$GENET5 bake "$WORK/sets/prok/manifest.tsv" "$WORK/bake_prok" --window 2048 --overlap 256 \
    --subset 0.3 --workers 2 "${SPLIT[@]}"
$GENET5 train "$WORK/bake_prok" --out "$WORK/stage1" --preset genet5-cpu --threads 2 \
    --set optim.lr=2e-3 --set optim.min_lr=2e-4 --set optim.warmup_steps=30 \
    --set train.max_steps=300 --set train.checkpoint_every=50 --set train.eval_every=100 \
    --set data.token_budget=8192

$GENET5 bake "$WORK/sets/mix/manifest.tsv" "$WORK/bake_mix" --window 2048 --overlap 256 \
    --subset 0.35 --workers 2 "${SPLIT[@]}"
$GENET5 train "$WORK/bake_mix" --out "$WORK/stage2" --init "$WORK/stage1/model" --threads 2 \
    --set optim.lr=1.5e-3 --set optim.min_lr=1e-4 --set optim.warmup_steps=30 \
    --set train.max_steps=1200 --set train.checkpoint_every=100 --set train.eval_every=200 \
    --set data.token_budget=8192

$GENET5 bake "$WORK/sets/mix/manifest.tsv" "$WORK/bake_mix_full" --window 2048 --overlap 256 \
    --subset 1.0 --workers 2 "${SPLIT[@]}"
$GENET5 train "$WORK/bake_mix_full" --out "$WORK/stage3" --init "$WORK/stage2/model" --threads 2 \
    --set optim.lr=1e-3 --set optim.min_lr=5e-5 --set optim.warmup_steps=50 \
    --set train.max_steps=2400 --set train.checkpoint_every=200 --set train.eval_every=400 \
    --set data.token_budget=8192

echo "model: $WORK/stage3/model (copy config.json and model.safetensors to src/genet5/bundled/genet5-cpu/)"
