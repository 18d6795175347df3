"""Build the training manifests of the gene model (and the Genos corpus) from ../shared/genomes,
following its splits.tsv.

    python scripts/make_training_sets.py SHARED_GENOMES WORK_DIR [--splits FILE] [--bundled]

WORK_DIR/prok/manifest.tsv   prokaryotes, phages and plastids of the manifest, `train` and
                             `validation` rows alike (symlinked, nothing copied)
WORK_DIR/mix/manifest.tsv    the same plus yeast (S. cerevisiae S288C, `train` in splits.tsv)
WORK_DIR/splits.tsv          the split of every row written, copied from the splits file

Bake with the split, so the `validation` genomes go to the bake's valid/ (validation loss) and
never into training, for the gene model and Genos alike:

    genet5 bake WORK_DIR/mix/manifest.tsv BAKE --splits WORK_DIR/splits.tsv ...
    genet5 lm bake WORK_DIR/prok/manifest.tsv LM_BAKE --splits WORK_DIR/splits.tsv

A genome of the chosen groups that the splits file does not list is an error.

--bundled reproduces the data of the bundled genet5-cpu network: Bradyrhizobium (it joined the
collection later) is left out, and so are yeast chromosomes I, III and VI, which that network
kept as its own extra check on a compact eukaryote (they are `train` in splits.tsv, and the
eukaryote site classifier trains on them). Yeast becomes WORK_DIR/mix/fungi/yeast_train (the
other 13 chromosomes; the row exactly as that bake saw it, since the entry's key and species
seed `--subset`), and chromosomes I, III, VI go to WORK_DIR/yeast_test/ (genome.fa,
annotation.gff3). Without --bundled, yeast is the whole genome.
"""

from __future__ import annotations

import argparse
import csv
import gzip
from pathlib import Path

from genet5.data.splits import read_manifest, read_splits

YEAST = "fungi/Saccharomyces_cerevisiae_S288C"
YEAST_TEST = {"BK006935.2", "BK006937.2", "BK006940.2"}  # chromosomes I, III, VI (--bundled)
PROKARYOTIC_GROUPS = ("prokaryotes", "phages", "plastids")
# --bundled: the genomes of the bundled network's bake. Bradyrhizobium joined the collection
# after that network was trained (its stage-3 bake, 51.6 M bases, has no room for its 9.1 Mb).
BUNDLED_LEAVES_OUT = ("prokaryotes/Bradyrhizobium_japonicum_USDA110",)
# the yeast row of the bundled network's bake
YEAST_TRAIN_PATH = "fungi/yeast_train"
YEAST_TRAIN_ROW = {"path": YEAST_TRAIN_PATH, "species": "Saccharomyces cerevisiae train chromosomes", "taxon": "fungi",
                   "genetic_code": "1", "sequences": "13", "size_bp": "11200000", "coding_transcripts": "0",
                   "annotation": "annotation.gff3.gz", "source": "SGD split", "license": "public",
                   "notes": "chromosomes I, III, VI removed (held out)"}  # fmt: skip


def _read_rows(manifest: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Header and rows (path -> row) of a manifest.tsv, checked by read_manifest first."""
    read_manifest(manifest)  # one clear error for a malformed manifest or a missing genome
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        rows = {r["path"].strip().strip("/"): r for r in reader if r["path"] and not r["path"].startswith("#")}
        return list(reader.fieldnames or []), rows


def _write_manifest(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _link(shared: Path, dest: Path, rel: str) -> None:
    """dest/rel -> shared/rel (a symlink to the genome's folder)."""
    link = dest / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to((shared / rel).resolve())


def split_yeast(shared: Path, train_dir: Path, test_dir: Path) -> None:
    """One pass over the FASTA and the GFF3: rows of the test chromosomes to test_dir."""
    train_dir.mkdir(parents=True, exist_ok=True)
    test_dir.mkdir(parents=True, exist_ok=True)
    src = shared / YEAST
    with gzip.open(src / "genome.fa.gz", "rt") as fin, gzip.open(train_dir / "genome.fa.gz", "wt") as tr, open(test_dir / "genome.fa", "w") as te:
        out = tr
        for line in fin:
            if line.startswith(">"):
                out = te if line[1:].split()[0] in YEAST_TEST else tr
            out.write(line)
    with gzip.open(src / "annotation.gff3.gz", "rt") as fin, gzip.open(train_dir / "annotation.gff3.gz", "wt") as tr, open(test_dir / "annotation.gff3", "w") as te:
        for line in fin:
            if line.startswith("##gff-version"):
                tr.write(line)
                te.write(line)
            elif line.startswith("##sequence-region"):
                (te if line.split()[1] in YEAST_TEST else tr).write(line)
            elif not line.startswith("#"):
                (te if line.split("\t", 1)[0] in YEAST_TEST else tr).write(line)


def build(shared: Path, work: Path, splits_path: Path | None = None, bundled: bool = False) -> dict[str, str]:
    """Write the manifests and WORK/splits.tsv; returns path -> split of every row written."""
    splits = read_splits(splits_path or shared / "splits.tsv")
    header, rows = _read_rows(shared / "manifest.tsv")
    prok = [p for p in rows if p.split("/", 1)[0] in PROKARYOTIC_GROUPS and not (bundled and p in BUNDLED_LEAVES_OUT)]
    unlisted = [p for p in [*prok, YEAST] if p not in splits]
    if unlisted:
        raise SystemExit(f"not in {splits_path or shared / 'splits.tsv'}: {', '.join(unlisted)}")
    side = {p: splits[p] for p in prok}
    for p in prok:
        _link(shared, work / "prok", p)
        _link(shared, work / "mix", p)
    _write_manifest(work / "prok" / "manifest.tsv", header, [rows[p] for p in prok])
    if bundled:
        if splits[YEAST] != "train":
            raise SystemExit(f"--bundled trains on yeast, which {splits_path} marks {splits[YEAST]}")
        split_yeast(shared, work / "mix" / YEAST_TRAIN_PATH, work / "yeast_test")
        yeast_rows, side[YEAST_TRAIN_PATH] = [YEAST_TRAIN_ROW], "train"
    else:
        _link(shared, work / "mix", YEAST)
        yeast_rows, side[YEAST] = [rows[YEAST]], splits[YEAST]
    _write_manifest(work / "mix" / "manifest.tsv", header, [*(rows[p] for p in prok), *yeast_rows])
    with open(work / "splits.tsv", "w", encoding="utf-8") as fh:
        fh.write("path\tsplit\n" + "".join(f"{p}\t{s}\n" for p, s in side.items()))
    return side


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])  # fmt: skip
    ap.add_argument("shared", type=Path, help="the shared genomes (manifest.tsv, splits.tsv)")
    ap.add_argument("work", type=Path)
    ap.add_argument("--splits", type=Path, default=None, help="splits file (default SHARED/splits.tsv)")
    ap.add_argument("--bundled", action="store_true", help="the bundled network's data: yeast chromosomes I, III, VI left out")
    args = ap.parse_args(argv)
    side = build(args.shared, args.work, args.splits, args.bundled)
    val = sorted(p for p, s in side.items() if s == "validation")
    print(f"wrote {args.work}/prok/manifest.tsv, {args.work}/mix/manifest.tsv, {args.work}/splits.tsv "
          f"({len(side) - len(val)} train, {len(val)} validation: {', '.join(val)})"
          + (f", {args.work}/yeast_test/" if args.bundled else ""))  # fmt: skip


if __name__ == "__main__":
    main()
