"""Splice-site position weight matrices for `--decoder viterbi`, counted on training genomes.

    python scripts/make_splice_pwm.py OUT.json GENOME_DIR [GENOME_DIR ...]

Each GENOME_DIR holds genome.fa(.gz) and annotation.gff3(.gz)/.gtf(.gz). Every intron between
two consecutive CDS segments of a coding transcript with a GT..AG intron gives one donor window
(the exon's last 3 bases + the intron's first 6) and one acceptor window (the intron's last 20
bases + the next exon's first base), in transcription orientation, each distinct intron once.
The JSON holds per-position base frequencies (A, C, G, T; add-one smoothed) and the background
composition of the introns' genomes; `genet5.predict.viterbi_hmm` turns them into log-odds.

A GENOME_DIR that ../shared/genomes/splits.tsv (or $GENET5_SPLITS) marks `validation`, matched
by its folder name, is refused: the matrices are training data. A folder the file does not list
(such as scripts/make_training_sets.py's yeast_train) is used with a note.

The bundled file (src/genet5/predict/splice_pwm.json) was made from D. melanogaster dm3 chr2R
and the yeast training chromosomes of scripts/make_training_sets.py --bundled
(docs/model_card.md): never from a genome the accuracy benchmarks score (dm6 chr4, C. elegans,
A. thaliana, yeast I/III/VI).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from genet5.data.splits import read_splits
from genet5.genome.codes import reverse_complement
from genet5.genome.fasta import read_fasta
from genet5.genome.gff import read_annotation

SPLITS = Path(os.environ.get("GENET5_SPLITS", Path(__file__).resolve().parents[1].parent / "shared" / "genomes" / "splits.tsv"))
DONOR_EXON, DONOR_INTRON = 3, 6
ACCEPTOR_INTRON, ACCEPTOR_EXON = 20, 1
BASES = b"ACGT"


def _find(directory: Path, stem: str) -> Path:
    for p in sorted(directory.iterdir()):
        if p.name.startswith(stem):
            return p
    raise SystemExit(f"{directory}: no {stem}* file")


def windows(directory: Path) -> tuple[list[bytes], list[bytes], np.ndarray]:
    ann = read_annotation(_find(directory, "annotation"))
    seqs = {r.id: r.seq.upper() if isinstance(r.seq, bytes) else r.seq.upper().encode() for r in read_fasta(_find(directory, "genome"))}
    donors, acceptors, seen = [], [], set()
    comp = np.zeros(4)
    for seqid, genes in ann.genes.items():
        seq = seqs.get(seqid)
        if seq is None:
            continue
        arr = np.frombuffer(seq, dtype=np.uint8)
        comp += [np.count_nonzero(arr == b) for b in BASES]
        for gene in genes:
            for tx in gene.transcripts:
                if not tx.is_coding or tx.pseudo or len(tx.cds) < 2:
                    continue
                segs = sorted((s.start, s.end) for s in tx.cds)  # 1-based inclusive, forward order
                strand = tx.cds[0].strand
                for (_, left_end), (right_start, _) in zip(segs, segs[1:]):
                    key = (seqid, strand, left_end, right_start)
                    if key in seen or right_start - left_end - 1 < 30:
                        continue
                    seen.add(key)
                    i0, i1 = left_end, right_start - 1  # intron = seq[i0:i1] (0-based)
                    if strand == "+":
                        intron = seq[i0:i1]
                        don = seq[i0 - DONOR_EXON : i0 + DONOR_INTRON]
                        acc = seq[i1 - ACCEPTOR_INTRON : i1 + ACCEPTOR_EXON]
                    else:
                        intron = reverse_complement(seq[i0:i1])
                        don = reverse_complement(seq[i1 - DONOR_INTRON : i1 + DONOR_EXON])
                        acc = reverse_complement(seq[i0 - ACCEPTOR_EXON : i0 + ACCEPTOR_INTRON])
                    if intron[:2] != b"GT" or intron[-2:] != b"AG":
                        continue
                    if len(don) == DONOR_EXON + DONOR_INTRON and len(acc) == ACCEPTOR_INTRON + ACCEPTOR_EXON:
                        donors.append(don)
                        acceptors.append(acc)
    return donors, acceptors, comp


def frequencies(words: list[bytes], width: int) -> list[list[float]]:
    counts = np.ones((width, 4))
    for w in words:
        for k, ch in enumerate(w):
            j = BASES.find(bytes([ch]))
            if j >= 0:
                counts[k, j] += 1
    return (counts / counts.sum(1, keepdims=True)).round(5).tolist()


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, dirs = Path(argv[0]), [Path(d) for d in argv[1:]]
    if SPLITS.is_file():
        split = {p.rsplit("/", 1)[-1]: s for p, s in read_splits(SPLITS).items()}
        held = [str(d) for d in dirs if split.get(d.resolve().name) == "validation"]
        if held:
            raise SystemExit(f"{SPLITS} marks these validation (not training data): {', '.join(held)}")
        for d in dirs:
            if d.resolve().name not in split:
                print(f"note: {d} is not listed in {SPLITS}", file=sys.stderr)
    else:
        print(f"note: {SPLITS} not found: the inputs' splits are not checked", file=sys.stderr)
    donors, acceptors, comp = [], [], np.zeros(4)
    for d in dirs:
        dn, ac, c = windows(d)
        print(f"{d}: {len(dn)} GT-AG introns", file=sys.stderr)
        donors += dn
        acceptors += ac
        comp += c
    doc = {
        "about": "splice-site base frequencies (A, C, G, T per position, transcription orientation); scripts/make_splice_pwm.py",
        "sources": [d.name for d in dirs],
        "introns": len(donors),
        "donor": {"exon_bases": DONOR_EXON, "intron_bases": DONOR_INTRON, "freq": frequencies(donors, DONOR_EXON + DONOR_INTRON)},
        "acceptor": {"intron_bases": ACCEPTOR_INTRON, "exon_bases": ACCEPTOR_EXON,
                     "freq": frequencies(acceptors, ACCEPTOR_INTRON + ACCEPTOR_EXON)},  # fmt: skip
        "background": (comp / comp.sum()).round(5).tolist(),
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}: {len(donors)} introns", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
