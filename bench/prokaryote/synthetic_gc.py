#!/usr/bin/env python3
"""GC-rich and AT-rich genomes beyond the shared ones: training genomes (robustness probes, not
accuracy figures) recoded, every CDS that overlaps no other given synonymous codons rich in G/C
(or A/T), its first codon and stop kept, and its intergenic bases moved towards G/C (A/T): E. coli
(G+C 0.32-0.68), Bradyrhizobium (0.72-0.73, as rich as Streptomyces), M. gallisepticum (table
4, 0.22) and the archaeon M. acetivorans (0.23-0.35); then `genet5 predict G -o OUT -q` (nothing named: domain and table read from the genome)
beside `prodigal -i G -f gff -q` (-g 4 for the Mycoplasma), both scored on the genome's own CDS by
genet5's scorer.

    python bench/prokaryote/synthetic_gc.py     # -> bench/results/prokaryote_synthetic_gc.json

No shared genome is richer in G+C than Bradyrhizobium (64%): where third codon positions are
nearly all G/C, stops are rare off frame and between genes (settings.py bootstrap_gc_frame).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "prokaryote"))
from vs_prodigal import cpu_name, scores, write_genes  # noqa: E402

GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
ECOLI = GENOMES / "prokaryotes" / "Escherichia_coli_K12_MG1655"
BRADY = GENOMES / "prokaryotes" / "Bradyrhizobium_japonicum_USDA110"
MGAL = GENOMES / "prokaryotes" / "Mycoplasma_gallisepticum_NC_004829"
MACE = GENOMES / "archaea" / "Methanosarcina_acetivorans_C2A"
OUT = REPO / "bench" / "results" / "prokaryote_synthetic_gc.json"
# (name, genome, its table, rich bases, codon weight power (None: the richest synonym always),
# share of intergenic bases of the other two moved)
CASES = [("gc_0.58", ECOLI, 11, "GC", 3, 0.3), ("gc_0.67", ECOLI, 11, "GC", 12, 0.9),
         ("gc_0.68_richest", ECOLI, 11, "GC", None, 1.0), ("at_0.32_richest", ECOLI, 11, "AT", None, 1.0),
         ("brady_gc_0.72", BRADY, 11, "GC", 12, 0.9), ("brady_gc_0.73_richest", BRADY, 11, "GC", None, 1.0),
         ("mgal_at_0.22_richest", MGAL, 4, "AT", None, 1.0),
         # an archaeon (train; 42.7% G+C) as AT-rich as the poorest methanogens
         ("mace_at_0.35", MACE, 11, "AT", 3, 0.3), ("mace_at_0.23_richest", MACE, 11, "AT", None, 1.0)]


def recode(genome: Path, annotation: Path, out: Path, rich: str, power: float | None = None,
           intergenic: float = 1.0, seed: int = 0) -> float:
    """Write a one-sequence genome (E. coli, ...) recoded towards `rich` ("GC" or "AT") to `out`,
    under its own sequence name (its reference scores it); returns its G+C share. Synonyms are
    table 11's; a table-4 genome's TGA (tryptophan there) is left as it is."""
    from Bio.Data import CodonTable

    rng = random.Random(seed)
    with gzip.open(genome, "rt") as f:
        lines = f.read().splitlines()
    seqid = lines[0][1:].split()[0]
    seq = bytearray("".join(ln.strip() for ln in lines[1:] if not ln.startswith(">")).encode())
    with gzip.open(annotation, "rt") as f:
        cds = sorted((int(t[3]) - 1, int(t[4]), t[6]) for t in (ln.split("\t") for ln in f) if len(t) > 8 and t[2] == "CDS")
    table = CodonTable.unambiguous_dna_by_id[11].forward_table
    synonyms: dict[str, list[str]] = {}
    for codon, aa in table.items():
        synonyms.setdefault(aa, []).append(codon)
    richness = {c: sum(x in rich for x in c) for c in table}

    def pick(codon: str) -> str:
        if codon not in table:
            return codon
        opts = synonyms[table[codon]]
        if power is None:
            return max(opts, key=lambda o: (richness[o], o))
        return rng.choices(opts, weights=[(1 + richness[o]) ** power for o in opts])[0]

    depth = bytearray(len(seq))
    for a, b, _ in cds:
        depth[a:b] = bytes(min(d + 1, 2) for d in depth[a:b])
    comp = bytes.maketrans(b"ACGT", b"TGCA")
    for a, b, strand in cds:
        if (b - a) % 3 or max(depth[a:b]) > 1:
            continue
        piece = bytes(seq[a:b]) if strand == "+" else bytes(seq[a:b]).translate(comp)[::-1]
        codons = [piece[i : i + 3].decode() for i in range(0, len(piece), 3)]
        new = "".join([codons[0]] + [pick(c) for c in codons[1:-1]] + [codons[-1]]).encode()
        seq[a:b] = new if strand == "+" else new.translate(comp)[::-1]
    other = b"AT" if rich == "GC" else b"GC"
    for i in range(len(seq)):
        if not depth[i] and seq[i] in other and rng.random() < intergenic:
            seq[i] = rng.choice(rich.encode())
    out.write_text(f">{seqid}\n" + seq.decode() + "\n")
    return (seq.count(b"G") + seq.count(b"C")) / len(seq)


def without_gc_frame_start(fa: Path, out: Path) -> None:
    """The ablation: single mode under table 11 with settings.bootstrap_gc_frame off (the
    long-ORF guess starts self-training whatever the G+C), written as predict writes genes."""
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote.decoder import ProkaryoteSettings, find_genes, prepare_record

    settings = ProkaryoteSettings(use_net=False, bootstrap_gc_frame=None)
    records = [(r.id, r.seq) for r in read_fasta(fa)]
    prepared = [prepare_record(sid, seq, genetic_code(11), frozenset({b"ATG", b"GTG", b"TTG"}), settings) for sid, seq in records]
    write_genes(out, fa, records, find_genes(prepared, settings), 11)


def main() -> None:
    for genome in {c[1] for c in CASES}:
        if not genome.is_dir():
            raise SystemExit(f"needs {genome} (../shared/genomes)")
    genet5 = str(Path(sys.executable).parent / "genet5")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, genome, table, rich, power, intergenic in CASES:
            ref = genome / "annotation.gff3.gz"
            fa = tmp / f"{name}.fa"
            gc = recode(genome / "genome.fa.gz", ref, fa, rich, power, intergenic)
            ours, theirs = tmp / f"{name}.gff3", tmp / f"{name}.prodigal.gff"
            p = subprocess.run([genet5, "predict", str(fa), "-o", str(ours)], capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(p.stderr)
            subprocess.run(["prodigal", "-i", str(fa), "-f", "gff", "-o", str(theirs), "-q", "-g", str(table)], check=True)
            row = {"case": name, "genome": genome.name, "table": table, "rich": rich, "codon_power": power,
                   "intergenic_moved": intergenic, "gc": round(gc, 3), "genet5_summary": " ".join(p.stderr.split()),
                   "genet5": scores(ref, ours, fa), "prodigal": scores(ref, theirs, fa)}
            if table == 11:  # the ablation decodes under table 11
                ablated = tmp / f"{name}.no_gc_frame.gff3"
                without_gc_frame_start(fa, ablated)
                row["genet5_without_gc_frame_start"] = scores(ref, ablated, fa)
            rows.append(row)
            ablation = row.get("genet5_without_gc_frame_start")
            print(f"{name:22s} G+C {gc:.3f}  stop F1 genet5 {row['genet5']['stop']['f1']:.4f} "
                  f"(start+stop {row['genet5']['start_stop']['f1']:.4f}; without the GC frame start "
                  f"{ablation['stop']['f1'] if ablation else float('nan'):.4f}) prodigal {row['prodigal']['stop']['f1']:.4f} "
                  f"({row['prodigal']['start_stop']['f1']:.4f})", flush=True)
    OUT.write_text(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "device": {"cpu": cpu_name(), "cores": os.cpu_count()}, "rows": rows}, indent=1) + "\n")
    print(f"wrote {OUT}")

if __name__ == "__main__":
    main()
