"""Meta mode without -g (meta.find_genes_meta_any_code): the table-4 sets compete with the
table-11 ones per sequence, and a sequence says table 4 only where its genes read TGA."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.decoders import COMMON_PROKARYOTIC_STARTS
from genet5.predict.prokaryote import meta
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, prepare_record

SHARED = Path(os.environ.get("GENET5_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "genomes"
CODE11, CODE4 = genetic_code(11), genetic_code(4)


def _prepared(seq: bytes, code) -> list:
    return prepare_record("r", seq, code, code.starts & COMMON_PROKARYOTIC_STARTS, ProkaryoteSettings(use_net=False))


def _at_rich_genome(seed: int, tga_share: float, n_genes: int = 40) -> bytes:
    """AT-rich genes (codons with at most one G or C) on both strands between AT-rich spacers
    with stops in every frame; tga_share of their codons TGA, read in frame as tryptophan
    (table 4) where it is above 0."""
    rng = np.random.default_rng(seed)
    sense = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT"
             if sum(x in "GC" for x in a + b + c) <= 1 and (a + b + c).encode() not in CODE11.stops and a + b + c != "ATG"]
    parts = []
    for i in range(n_genes):
        codons = rng.choice(sense, size=int(rng.integers(150, 350)))
        codons[rng.random(len(codons)) < tga_share] = "TGA"
        body = "ATG" + "".join(codons) + "TAA"
        spacer = "TAATTAATTAAT" + "".join(rng.choice(list("AAT"), size=25)) + "AGGAGGTAATAA"
        unit = spacer + body
        parts.append(unit if i % 3 else reverse_complement(unit.encode()).decode())
    return ("".join(parts) + "TAATTAATTAAT").encode()


def test_readthroughs_count_the_in_frame_tgas_of_the_chosen_genes():
    body = "ATG" + "AAA" * 10 + "TGA" + "AAA" * 5 + "TGA" + "AAT" + "GAA" * 20 + "TAA"  # 2 in frame, 1 out of frame (A|TGA|A)
    seq = ("TTTTTTTTTTTT" + body + "TTTTTTTTTTTT").encode()
    rec = _prepared(seq, CODE4)
    plus = next(i for i, d in enumerate(rec) if d.cand.strand == "+")
    d = rec[plus]
    gene = np.flatnonzero((d.cand.a == 12) & ~d.cand.edge)
    chosen = [gene if i == plus else np.zeros(0, dtype=np.int64) for i in range(len(rec))]
    read, codons = meta.readthroughs(rec, chosen)
    assert read == 2 and codons == len(body) // 3 - 1


def test_a_table_4_genome_reads_table_4_and_a_table_11_genome_table_11():
    sets, settings = meta.load_sets(), ProkaryoteSettings(use_net=False)
    for tga_share, table in ((0.015, 4), (0.0, 11)):
        seq = _at_rich_genome(2, tga_share)
        assert meta.record_gc(_prepared(seq, CODE11)) <= meta.TABLE4_MAX_GC
        genes, names, tables = meta.find_genes_meta_any_code([_prepared(seq, CODE11)], lambda i: _prepared(seq, CODE4),
                                                             settings, sets)
        assert tables == [table], (tga_share, names)
        # under table 4 the 40 genes run through their TGAs, longer than the pieces table 11 cuts
        under11 = meta.find_genes_meta([_prepared(seq, CODE11)], settings, sets, code=11)[0][0]
        assert 38 <= len(genes[0]) <= 42
        if table == 4:
            assert np.mean([g.end - g.start for g in genes[0]]) > 1.5 * np.mean([g.end - g.start for g in under11])


def test_gc_rich_sequences_are_not_tried_under_table_4():
    calls = []
    rng = np.random.default_rng(3)
    seq = bytes(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=8000, p=[0.2, 0.3, 0.3, 0.2]))
    genes, names, tables = meta.find_genes_meta_any_code([_prepared(seq, CODE11)], lambda i: calls.append(i),
                                                         ProkaryoteSettings(use_net=False))
    assert tables == [11] and calls == []


@pytest.mark.skipif(not (SHARED / "prokaryotes/Mycoplasmoides_alvi_ATCC29626").exists(),
                    reason="needs ../shared/genomes (the validation Mycoplasma and Erwinia phage)")
def test_real_mycoplasma_pieces_read_table_4_and_an_at_rich_phage_table_11():
    from genet5.genome.fasta import read_fasta

    sets, settings = meta.load_sets(), ProkaryoteSettings(use_net=False)
    for genome, table in (("prokaryotes/Mycoplasmoides_alvi_ATCC29626", 4), ("phages/erwinia_phage_LT960552", 11)):
        with gzip.open(SHARED / genome / "genome.fa.gz") as fh:
            assert fh.read(1) == b">"
        seq = max(read_fasta(SHARED / genome / "genome.fa.gz"), key=lambda r: len(r.seq)).seq
        pieces = [seq[i : i + 20_000] for i in range(100_000, 200_000, 20_000)]  # one phage piece scores higher under a table-4 set
        records = [_prepared(p, CODE11) for p in pieces]
        _, _, tables = meta.find_genes_meta_any_code(records, lambda i: _prepared(pieces[i], CODE4), settings, sets)
        assert tables == [table] * len(pieces), genome


def test_the_pipeline_writes_each_sequence_with_its_table(tmp_path):
    """`genet5 predict --meta` without -g: the table-4 sequence's CDS carry transl_table=4, the
    table-11 one's 11, and the stats say how many read table 4; with -g 11 every one stays 11."""
    from dataclasses import replace

    from genet5.genome.gff3_writer import write_gff3
    from genet5.predict.pipeline import PredictConfig, predict_genome

    fa = tmp_path / "g.fa"
    fa.write_text(f">four\n{_at_rich_genome(2, 0.015).decode()}\n>eleven\n{_at_rich_genome(4, 0.0).decode()}\n")
    cfg = PredictConfig(domain="prokaryote", genetic_code=11, mode="meta", code_from_genome=True)
    ann, lengths, stats = predict_genome(None, fa, cfg)
    assert ann.genetic_codes == {"four": 4, "eleven": 11} and stats.table4_sequences == 1
    write_gff3(tmp_path / "g.gff3", ann, lengths)
    rows = [r.split("\t") for r in (tmp_path / "g.gff3").read_text().splitlines() if "\tCDS\t" in r]
    assert {r[0]: r[8].split("transl_table=")[1][:2].rstrip(";") for r in rows} == {"four": "4", "eleven": "11"}
    ann, _, stats = predict_genome(None, fa, replace(cfg, code_from_genome=False))
    assert set(ann.genetic_codes.values()) == {11} and stats.table4_sequences == 0


def test_the_command_says_which_sequences_read_table_4(tmp_path):
    """The summary line (and with -q a note) and the GFF3 header say it; -g 11 keeps table 11."""
    from conftest import run_cli

    fa = tmp_path / "g.fa"
    fa.write_text(f">four\n{_at_rich_genome(2, 0.015).decode()}\n>eleven\n{_at_rich_genome(4, 0.0).decode()}\n")
    p = run_cli("predict", fa, "--meta", "-o", tmp_path / "g.gff3", "-q")
    assert p.returncode == 0 and "table 4 on 1 of 2 sequences" in p.stderr
    assert "table 4 on 1 of 2 sequences" in (tmp_path / "g.gff3").read_text().splitlines()[1]
    p = run_cli("predict", fa, "--meta", "-g", "11", "-o", tmp_path / "h.gff3", "-q")
    assert p.returncode == 0 and p.stderr == "" and "transl_table=4" not in (tmp_path / "h.gff3").read_text()
