import gzip
import re
from pathlib import Path

import pytest

from genet5.genome.genbank import read_genbank
from genet5.genome.gff import read_annotation
from genet5.genome.models import GenomeFormatError

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def small():
    ann, seqs = read_genbank(DATA / "genbank_small.gb")
    txs = {t.gene_id: t for t in ann.iter_transcripts()}
    return ann, seqs, txs


def test_records_lengths_topology_codes(small):
    ann, seqs, _ = small
    assert ann.sequence_lengths == {"TEST0001.1": 1200, "TEST0002.1": 20, "TEST0003.1": 300}
    assert ann.circular == {"TEST0001.1"}
    assert ann.genetic_codes == {"TEST0001.1": 11}  # the most common transl_table
    assert len(seqs["TEST0001.1"]) == 1200
    assert seqs["TEST0002.1"] == b"ATGAAACCCGGGTTTNNTAA"  # upper-cased, IUPAC R -> N


def test_simple_and_partial(small):
    _, _, txs = small
    a = txs["GA_0001"]
    assert a.chain() == (("+", 10, 309),) and a.id == "TP_0001.1" and a.genetic_code == 11
    assert (a.phase, a.start_partial, a.end_partial, a.pseudo) == (0, False, False, False)
    assert a.attributes["product"] == "test protein A"
    # 310..>360 on '+': the 3' end is open
    p = txs["GA_0007"]
    assert (p.start_partial, p.end_partial) == (False, True)
    # complement(<750..>830) with codon_start=2: both ends open, phase 1
    m = txs["GA_0004"]
    assert m.strand == "-" and (m.start_partial, m.end_partial, m.phase) == (True, True, 1)


def test_minus_strand_join_with_mrna_exons(small):
    _, _, txs = small
    t = txs["GA_0002"]
    assert t.chain() == (("-", 640, 690), ("-", 520, 600), ("-", 420, 480))
    assert [(e.start, e.end) for e in t.exons] == [(640, 700), (520, 600), (400, 480)]
    assert not t.unusual_order


def test_origin_spanning_genes_keep_order(small):
    ann, _, txs = small
    plus = txs["GA_0003"]
    assert plus.chain() == (("+", 1150, 1200), ("+", 1, 60)) and plus.unusual_order
    minus = txs["GA_0009"]  # complement(join(1180..1200,1..30)), codon_start=3
    assert minus.chain() == (("-", 1, 30), ("-", 1180, 1200)) and minus.unusual_order
    assert minus.phase == 2


def test_gene_grouping_and_pseudo(small):
    ann, _, txs = small
    assert txs["orfX"].gene_id == "orfX"  # no locus_tag: grouped by /gene
    generated = [g for g in txs if g.startswith("TEST0001.1_cds")]
    assert len(generated) == 1 and txs[generated[0]].genetic_code == 4
    assert txs["GA_0005"].pseudo and next(g for g in ann.iter_genes() if g.id == "GA_0005").pseudo
    assert txs["GA_0008"].pseudo  # /pseudogene="unitary"
    assert txs["GB_0001"].genetic_code is None and "TEST0002.1" not in ann.genetic_codes


def test_bad_genbank_files(tmp_path):
    garbage = tmp_path / "x.gb"
    garbage.write_text("this is not a genbank file\n")
    with pytest.raises(GenomeFormatError, match=str(garbage)):
        read_genbank(garbage)
    trunc = tmp_path / "t.gb.gz"
    data = gzip.compress((DATA / "genbank_small.gb").read_bytes())
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(GenomeFormatError, match="gzip|GenBank"):
        read_genbank(trunc)


def _flat_file_cds_count(path) -> tuple[int, int]:
    """Independent count straight from the flat file text (no Biopython): CDS features, and
    those carrying /pseudo. A feature starts at column 6; qualifiers sit at column 22."""
    n_cds = n_pseudo = 0
    key = None
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("ORIGIN"):
                key = None
                continue
            m = re.match(r"^ {5}(\S+)\s", line)
            if m:
                key = m.group(1)
                n_cds += key == "CDS"
            elif key == "CDS":
                q = line.strip()
                n_pseudo += q == "/pseudo" or q.startswith("/pseudogene")
    return n_cds, n_pseudo


def test_ecoli_coding_transcripts_match_flat_file(shared_genomes):
    path = shared_genomes / "prokaryotes/Escherichia_coli_K12_MG1655/original.gbff.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    ann, seqs = read_genbank(path)
    n_cds, n_pseudo = _flat_file_cds_count(path)
    txs = list(ann.iter_transcripts())
    assert len(txs) == n_cds
    assert sum(not t.pseudo for t in txs) == n_cds - n_pseudo
    seqid = next(iter(ann.sequence_lengths))
    assert ann.circular == {seqid} and ann.genetic_codes == {seqid: 11}
    assert len(seqs[seqid]) == ann.sequence_lengths[seqid] == 4641652

    # Same genome's GFF3 at the CDS-chain level (through the project's GFF reader).
    ref = read_annotation(path.parent / "annotation.gff3.gz")
    chains_gb = {(t.seqid, t.chain()) for t in txs if not t.pseudo}
    chains_gff = {(t.seqid, t.chain()) for t in ref.iter_transcripts() if t.is_coding and not t.pseudo}
    assert chains_gb == chains_gff


def test_isoforms_get_the_mrna_with_matching_introns(small):
    # Both mRNAs span each CDS; only the intron chain tells NP_A.1 from NP_B.1 (and the
    # file lists the mRNAs in the opposite order of the CDSs).
    ann, _, _ = small
    by_id = {t.id: t for t in ann.iter_transcripts() if t.seqid == "TEST0003.1"}
    assert [(e.start, e.end) for e in by_id["NP_A.1"].exons] == [(10, 60), (100, 200)]
    assert [(e.start, e.end) for e in by_id["NP_B.1"].exons] == [(10, 60), (80, 200)]
    assert ann.sequence_lengths["TEST0003.1"] == 300
