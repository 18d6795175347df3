#!/usr/bin/env python3
"""`genet5 predict --training FILE` (Prodigal's -t) on contigs too short to teach themselves,
beside meta mode (shipped parameter sets) and Prodigal -p meta on the same contigs.

Each pair is (genome the training file is written from, genome cut into pieces): a sibling
(another strain of the species: MT939486 -> MT939487, the validation phages) and the same genome
(T. kodakarensis -> its own pieces: what a metagenome bin of a species with a finished genome
gets; an upper bound, the file having seen these genes). Pieces: non-overlapping, of one size,
from the genome's longest sequence, decoded together as one multi-FASTA (each piece alone in
meta and training mode). Scored as meta_pieces.py scores: exact start+stop F1 over the reference
genes wholly inside a piece, predictions cut by a piece's ends not counted.

    python bench/prokaryote/training_pieces.py [--size 10000]
        # -> bench/results/prokaryote_training_pieces.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phage_errors import reference  # noqa: E402
from settings_harness import GENOMES, REPO  # noqa: E402

OUT = REPO / "bench" / "results" / "prokaryote_training_pieces.json"
PAIRS = [("phages/erwinia_phage_MT939486", "phages/erwinia_phage_MT939487"),  # sibling strain
         ("archaea/Thermococcus_kodakarensis_KOD1", "archaea/Thermococcus_kodakarensis_KOD1")]  # itself
GENET5 = [sys.executable, "-m", "genet5"]


def longest(genome: str) -> tuple[str, str]:
    from genet5.genome.fasta import read_fasta

    rec = max(read_fasta(GENOMES / genome / "genome.fa.gz"), key=lambda r: len(r.seq))
    return rec.id, rec.seq.decode()


def predicted(gff: Path, sid: str) -> set:
    """Complete CDS of the pieces' GFF3 in the whole sequence's coordinates."""
    out = set()
    for line in gff.read_text().splitlines():
        f = line.split("\t")
        # cut by a piece's end: ours partial=true (and prodigal_partial), Prodigal's partial=10/01/11
        if len(f) == 9 and f[2] == "CDS" and not re.search(r"partial=(true|01|10|11)", f[8]):
            off = int(f[0][1:])
            out.add((sid, f[6], int(f[3]) + off, int(f[4]) + off))
    return out


def f1(pred: set, ref: set) -> float:
    return round(2 * len(pred & ref) / max(len(pred) + len(ref), 1), 4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for train, target in PAIRS:
            trn = tmp / (Path(train).name + ".trn")
            src = tmp / "train.fa"
            src.write_bytes(gzip.decompress((GENOMES / train / "genome.fa.gz").read_bytes()))
            subprocess.run([*GENET5, "predict", str(src), "-o", str(tmp / "train.gff3"), "-t", str(trn), "-q",
                            "--domain", "prokaryote"], check=True, capture_output=True)
            sid, seq = longest(target)
            offs = list(range(0, len(seq) - args.size + 1, args.size))
            pieces = tmp / "pieces.fa"
            pieces.write_text("".join(f">p{o}\n{seq[o:o + args.size]}\n" for o in offs))
            ref = {g for g in reference(GENOMES / target / "annotation.gff3.gz")
                   if g[0] == sid and any(o < g[2] and g[3] <= o + args.size for o in offs)}
            row = {"training_from": train, "pieces_of": target, "pieces": len(offs), "reference_genes": len(ref)}
            for name, extra in (("training", ["-t", str(trn)]), ("meta", ["--meta"])):
                gff = tmp / f"{name}.gff3"
                subprocess.run([*GENET5, "predict", str(pieces), "-o", str(gff), "-q", "--domain", "prokaryote", *extra],
                               check=True, capture_output=True)
                row[name] = f1(predicted(gff, sid), ref)
            prod = subprocess.run(["prodigal", "-i", str(pieces), "-p", "meta", "-f", "gff", "-q"], capture_output=True, text=True)
            gff = tmp / "prodigal.gff3"
            gff.write_text(prod.stdout)
            row["prodigal_meta"] = f1(predicted(gff, sid), ref)
            print(f"{train} -> {target}: {len(offs)} pieces of {args.size:,} bp, training {row['training']}, "
                  f"meta {row['meta']}, prodigal -p meta {row['prodigal_meta']}")
            rows.append(row)
    args.out.write_text(json.dumps({"date": dt.date.today().isoformat(), "size": args.size, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
