#!/usr/bin/env bash
# GeneT5 1.55B seq2seq on one GPU node (issue 14), the curriculum in two stages:
#  1. bake the single-exon genomes of splits.tsv (prokaryotes, archaea, phages, plastids: what
#     `genet5 predict --decoder seq2seq` decodes; the validation genomes go to the bake's valid
#     split), then train the whole encoder-decoder with torchrun and
#     configs/genet5-1.55b-seq2seq.yaml -> $OUT/run/model;
#  2. (EUKARYOTES=0 skips it) bake the eukaryote genomes (fungi, invertebrates, plants,
#     vertebrates) in 4,096-base windows and continue stage 1's model on them (--init) ->
#     $OUT/run_eukaryote/model, for `genet5 predict --domain eukaryote --decoder seq2seq --model`.
# Recipe and expected GPU hours: docs/training_logs/seq2seq_20261204_curve.md (stage 1) and
# seq2seq_20261205_eukaryote.md (stage 2, and why the CPU-size model of that stage fails).
#
#   scripts/train_genet5_1.55b.sh                       # 8 GPUs, the full recipe
#   NPROC=2 SUBSET=0.01 scripts/train_genet5_1.55b.sh --set model.preset=genet5-tiny \
#       --set train.max_steps=3 --set train.eval_every=3   # the dry run on CPU (gloo)
#
# Extra arguments go to `genet5 train` (e.g. --set optim.lr=2e-4). Rerunning resumes: the bake
# skips finished genomes and genet5 train continues from the run's last checkpoint.
set -euo pipefail
SHARED=${SHARED:-../shared/genomes}
OUT=${OUT:-runs/genet5-1.55b-seq2seq}
NPROC=${NPROC:-8}
SUBSET=${SUBSET:-1.0}
WORKERS=${WORKERS:-8}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python}

[ -f "$SHARED/manifest.tsv" ] && [ -f "$SHARED/splits.tsv" ] || { echo "train_genet5_1.55b.sh: $SHARED has no manifest.tsv/splits.tsv (set SHARED)" >&2; exit 2; }
SHARED=$(cd "$SHARED" && pwd)
mkdir -p "$OUT/single_exon"
# a manifest of the single-exon rows beside links to their folders (manifest paths are relative)
for taxon in prokaryotes archaea phages plastids; do ln -sfn "$SHARED/$taxon" "$OUT/single_exon/$taxon"; done
awk -F'\t' 'NR == 1 || $3 == "prokaryotes" || $3 == "archaea" || $3 == "phages" || $3 == "plastids"' \
    "$SHARED/manifest.tsv" > "$OUT/single_exon/manifest.tsv"
"$PY" -m genet5 bake "$OUT/single_exon/manifest.tsv" "$OUT/bake" --window 2048 --overlap 256 \
    --splits "$SHARED/splits.tsv" --subset "$SUBSET" --workers "$WORKERS" -q
torchrun --standalone --nproc-per-node "$NPROC" -m genet5 train "$OUT/bake" --out "$OUT/run" \
    --objective full --config "$HERE/configs/genet5-1.55b-seq2seq.yaml" "$@"

[ "${EUKARYOTES:-1}" = 0 ] && exit 0
mkdir -p "$OUT/eukaryote"
for taxon in fungi invertebrates plants vertebrates; do ln -sfn "$SHARED/$taxon" "$OUT/eukaryote/$taxon"; done
awk -F'\t' 'NR == 1 || $3 == "fungi" || $3 == "invertebrates" || $3 == "plants" || $3 == "vertebrates"' \
    "$SHARED/manifest.tsv" > "$OUT/eukaryote/manifest.tsv"
# --group-by genome: splits.tsv puts fly and Arabidopsis genomes on both sides (their 1% sets are
# validation); validation windows only score the validation loss (the parts of the 1% sets that
# overlap a training chromosome make that loss a little easy), they are never trained on
"$PY" -m genet5 bake "$OUT/eukaryote/manifest.tsv" "$OUT/bake_eukaryote" --window 4096 --overlap 512 \
    --splits "$SHARED/splits.tsv" --group-by genome --subset "$SUBSET" --workers "$WORKERS" -q
# stage 1's model keeps its own config (model.config emptied); 8 windows of 4,096 bases per
# micro-batch: 524,288 bases a step, 3,800 steps = 2.0 B bases at most
torchrun --standalone --nproc-per-node "$NPROC" -m genet5 train "$OUT/bake_eukaryote" --out "$OUT/run_eukaryote" \
    --objective full --config "$HERE/configs/genet5-1.55b-seq2seq.yaml" --init "$OUT/run/model" \
    --set 'model.config={}' --set data.token_budget=32768 --set train.max_steps=3800 "$@"
