"""Build the two training manifests of the bundled model from ../shared/genomes.

    python scripts/make_training_sets.py SHARED_GENOMES WORK_DIR

WORK_DIR/prok/manifest.tsv   prokaryotes, phages and plastids (symlinked, nothing copied)
WORK_DIR/mix/manifest.tsv    the same plus yeast without chromosomes I, III and VI
WORK_DIR/yeast_test/         yeast chromosomes I, III and VI (genome.fa, annotation.gff3):
                             never seen in training, the yeast validation set

Species held out of training are named at bake time (`--holdout`); see docs/model_card.md.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

YEAST = "fungi/Saccharomyces_cerevisiae_S288C"
YEAST_TEST = {"BK006935.2", "BK006937.2", "BK006940.2"}  # chromosomes I, III, VI
PROKARYOTIC_GROUPS = ("prokaryotes", "phages", "plastids")


def link_groups(shared: Path, dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    for group in PROKARYOTIC_GROUPS:
        link = dest / group
        if not link.exists():
            link.symlink_to((shared / group).resolve())
    lines = (shared / "manifest.tsv").read_text().splitlines()
    rows = [ln for ln in lines[1:] if ln.split("\t", 1)[0].split("/", 1)[0] in PROKARYOTIC_GROUPS]
    (dest / "manifest.tsv").write_text("\n".join([lines[0], *rows]) + "\n")
    return [lines[0], *rows]


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


def main(shared: Path, work: Path) -> None:
    link_groups(shared, work / "prok")
    header, *rows = link_groups(shared, work / "mix")
    split_yeast(shared, work / "mix" / "fungi" / "yeast_train", work / "yeast_test")
    # the row exactly as the bundled model's bake saw it (the species name seeds --subset)
    yeast_row = "\t".join([
        "fungi/yeast_train", "Saccharomyces cerevisiae train chromosomes", "fungi", "1", "13", "11200000",
        "0", "annotation.gff3.gz", "SGD split", "public", "chromosomes I, III, VI removed (held out)",
    ])
    (work / "mix" / "manifest.tsv").write_text("\n".join([header, *rows, yeast_row]) + "\n")
    print(f"wrote {work}/prok/manifest.tsv, {work}/mix/manifest.tsv, {work}/yeast_test/")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
