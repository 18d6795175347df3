"""The Viterbi (gene-structure HMM) decoder on hand-built sequences with oracle tracks: exact
single- and multi-exon genes on both strands, splice-site and frame rules, valid output on
noise, and an oracle track over a yeast region with intron-containing genes."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_file
from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.viterbi_decoder import candidate_regions, decode_viterbi, viterbi_gene_to_gene

CODE = genetic_code(1)


def oracle_logp(n: int, genes: list[tuple[str, list[tuple[int, int]]]], hi: float = 0.9, lo: float = 0.02) -> np.ndarray:
    """Log-probabilities with `hi` on the true class: CDS codon positions counted along
    transcription across introns (as BaseClass does), intron between segments, intergenic
    elsewhere. Segments are 1-based closed, in any order."""
    labels = np.zeros(n, dtype=int)
    for strand, segs in genes:
        segs = sorted(segs)
        for (_, e1), (s2, _) in zip(segs, segs[1:]):
            labels[e1 : s2 - 1] = 4
        bases = np.concatenate([np.arange(a - 1, b) for a, b in segs])
        if strand == "-":
            bases = bases[::-1]
        labels[bases] = 1 + np.arange(bases.size) % 3
    logp = np.full((n, 6), np.log(lo))
    logp[np.arange(n), labels] = np.log(hi)
    return logp


def filler(n: int, seed: int) -> str:
    # stop-rich filler (TAA / TAG / TGA in every frame) keeps random ORFs short
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(["TAA", "TAG", "TGA", "CCT", "GCA"], size=n // 3))


def codons(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(["GCT", "AAA", "CTG", "GGC", "ACC", "CAG"], size=n))


def intron(length: int, donor: str = "GT", acceptor: str = "AG") -> str:
    return donor + "AAGT" + "C" * (length - 12) + "TTTC" + acceptor


def place(parts: list[str], left: int = 240, right: int = 240, seed: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """Filler + exon/intron/exon... + filler; returns the sequence and the exon coordinates."""
    seq = filler(left, seed)
    segs = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            segs.append((len(seq) + 1, len(seq) + len(part)))
        seq += part
    return seq + filler(right, seed + 1), segs


def to_minus(seq: str, segs: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """The same gene on the other strand: reverse-complemented sequence, transcription order."""
    n = len(seq)
    return reverse_complement(seq.encode()).decode(), [(n - b + 1, n - a + 1) for a, b in segs]


def spliced(seq: bytes, strand: str, cds: list[tuple[int, int]]) -> bytes:
    s = b"".join(seq[a - 1 : b] for a, b in sorted(cds))
    return reverse_complement(s) if strand == "-" else s


def check_valid(seq: bytes, genes, min_intron: int = 20) -> None:
    for g in genes:
        cds = spliced(seq, g.strand, g.cds)
        assert len(cds) % 3 == 0
        protein = CODE.translate(cds)
        assert "*" not in protein[:-1]
        if not g.end_partial:
            assert protein.endswith("*")
        if not g.start_partial:
            assert cds[:3] == b"ATG"
        for (_, b), (c, _) in zip(sorted(g.cds), sorted(g.cds)[1:]):
            intr = seq[b : c - 1]
            if g.strand == "-":
                intr = reverse_complement(intr)
            assert intr[:2] == b"GT" and intr[-2:] == b"AG" and len(intr) >= min_intron


def test_single_exon_gene_on_each_strand():
    gene = "ATG" + codons(60, 1) + "TAA"
    seq, segs = place([gene], seed=2)
    genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", segs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("+", segs)]
    assert not genes[0].start_partial and not genes[0].end_partial and genes[0].start_codon == "ATG"
    rseq, rsegs = to_minus(seq, segs)
    genes = decode_viterbi(rseq.encode(), oracle_logp(len(rseq), [("-", rsegs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("-", rsegs)]


@pytest.mark.parametrize("phase_split", [0, 1, 2])
def test_two_exon_gene_on_each_strand(phase_split):
    # the intron falls between codons, or after the first or second base of one
    exon1 = "ATG" + codons(40, 3) + "GCA"[:phase_split]
    exon2 = "GCA"[phase_split:] + codons(30, 4) + "TGA"
    seq, segs = place([exon1, intron(80), exon2], seed=5)
    genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", segs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("+", segs)]
    rseq, rsegs = to_minus(seq, segs)
    genes = decode_viterbi(rseq.encode(), oracle_logp(len(rseq), [("-", rsegs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("-", rsegs)]  # transcription order: descending
    check_valid(rseq.encode(), genes)


def test_genes_on_both_strands_with_introns_in_one_sequence():
    plus, psegs = place(["ATG" + codons(30, 6) + "GC", intron(60), "A" + codons(40, 7) + "TAG"], seed=8)
    minus, msegs = to_minus(*place(["ATG" + codons(50, 9) + "G", intron(100), "CA" + codons(25, 10) + "TAA"], seed=11))
    seq = plus + minus
    msegs = [(a + len(plus), b + len(plus)) for a, b in msegs]
    genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", psegs), ("-", msegs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("+", psegs), ("-", msegs)]


def test_start_codon_split_by_an_intron():
    # yeast ribosomal-protein genes: first exon "AT", the G after the intron
    seq, segs = place(["AT", intron(90), "G" + codons(60, 12) + "TAA"], seed=13)
    genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", segs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("+", segs)]
    rseq, rsegs = to_minus(seq, segs)
    genes = decode_viterbi(rseq.encode(), oracle_logp(len(rseq), [("-", rsegs)]), CODE)
    assert [(g.strand, g.cds) for g in genes] == [("-", rsegs)]


def test_intron_without_gt_ag_or_too_short_is_not_used():
    exon1, exon2 = "ATG" + codons(40, 14), codons(30, 15) + "TAA"
    for bad in (intron(80, donor="GA"), intron(80, acceptor="AC"), intron(16)):
        seq, segs = place([exon1, bad, exon2], seed=16)
        genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", segs)]), CODE)
        assert all(g.cds != segs for g in genes)
        check_valid(seq.encode(), genes)


def test_noncanonical_splice_sites_only_when_asked():
    seq, segs = place(["ATG" + codons(40, 17), intron(80, donor="GC"), codons(30, 18) + "TAA"], seed=19)
    logp = oracle_logp(len(seq), [("+", segs)])
    assert all(g.cds != segs for g in decode_viterbi(seq.encode(), logp, CODE))
    genes = decode_viterbi(seq.encode(), logp, CODE, noncanonical_splice=True)
    assert [(g.strand, g.cds) for g in genes] == [("+", segs)]


def test_in_frame_stop_in_the_track_gene_is_not_followed():
    # the track claims one long gene, but the sequence has an in-frame stop in its middle
    body = codons(40, 20) + "TAG" + codons(40, 21)
    seq, segs = place(["ATG" + body + "TAA"], seed=22)
    genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", segs)]), CODE)
    assert genes and all(g.cds != segs for g in genes)
    check_valid(seq.encode(), genes)


def test_noisy_track_gives_only_valid_genes():
    rng = np.random.default_rng(23)
    seq = rng.choice(list(b"ACGT"), size=20_000).astype(np.uint8).tobytes()
    # smoothed noise over "intergenic", "coding, any frame" and "intron": runs of each, like
    # a real track, but with no gene behind them
    noise = np.cumsum(rng.normal(size=(len(seq) + 60, 3)), axis=0)
    mode = (noise[60:] - noise[:-60]) * 0.8
    logits = np.stack([mode[:, 0], mode[:, 1], mode[:, 1], mode[:, 1], mode[:, 2], mode[:, 0] - 3], axis=1)
    logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    genes = decode_viterbi(seq, logp, CODE, min_len=60, gene_logp=-2.0, intron_logp=-1.0)
    assert len(genes) >= 5 and any(len(g.cds) > 1 for g in genes)  # the decoder is exercised
    check_valid(seq, genes)
    assert all(g.cds_length >= 60 for g in genes)
    # genes never overlap (one path through both strands)
    spans = sorted((g.start, g.end) for g in genes)
    assert all(b < c for (_, b), (c, _) in zip(spans, spans[1:]))


def test_gene_running_off_the_sequence_end_is_partial_whole_codons():
    gene = "ATG" + codons(80, 24) + "TAA"
    seq = filler(90, 25) + gene[:-61]  # the stop and the last codons cut off
    lo = 91
    hi = len(seq) - (len(seq) - lo + 1) % 3
    genes = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("+", [(lo, len(seq))])]), CODE)
    assert len(genes) == 1
    g = genes[0]
    assert (g.strand, g.cds, g.start_partial, g.end_partial) == ("+", [(lo, hi)], False, True)
    check_valid(seq.encode(), genes)


def test_candidate_regions_pad_merge_and_cut():
    ig = np.full(100_000, np.log(0.99))
    ig[1000:2000] = ig[2100:3000] = ig[50_000:90_000] = np.log(0.1)
    ig[70_000:70_200] = np.log(0.95)  # a confident intergenic gap inside the long run
    regions = candidate_regions(ig, 0.2, 100, 30_000)
    assert regions[0] == (900, 3100)  # padded, and merged across the 100-base gap
    assert len(regions) == 3 and regions[1][0] == 49_900 and regions[2][1] == 90_100
    assert 70_000 <= regions[1][1] <= 70_201 and regions[2][0] == regions[1][1]


def test_gene_model_conversion():
    seq, segs = to_minus(*place(["ATG" + codons(40, 26) + "G", intron(70), "CA" + codons(20, 27) + "TAA"], seed=28))
    (g,) = decode_viterbi(seq.encode(), oracle_logp(len(seq), [("-", segs)]), CODE)
    gene = viterbi_gene_to_gene(g, "chr1", 1, "genet5")
    tx = gene.transcripts[0]
    assert tx.chain() == tuple(("-", a, b) for a, b in segs)
    assert tx.cds_length % 3 == 0 and tx.cds_5prime() == segs[0][1]
    assert (gene.start, gene.end) == (segs[1][0], segs[0][1])


def test_yeast_region_with_intron_genes():
    """Oracle track from the reference over chr III 95-125 kb (three intron-containing genes,
    one with an 11-base first exon, on both strands): every gene must come back."""
    from genet5.evaluate.metrics import evaluate
    from genet5.genome.fasta import Genome
    from genet5.genome.models import Annotation
    from genet5.genome.readers import load_annotation
    from genet5.tokenizers.annotation import per_base_labels

    root = shared_file("fungi/Saccharomyces_cerevisiae_S288C")
    ann = load_annotation(root / "annotation.gff3.gz")
    seqid, lo, hi = "BK006937.2", 95_001, 125_000
    seq = Genome(root / "genome.fa.gz").fetch(seqid, lo, hi)
    ref = Annotation()
    for gene in ann.genes[seqid]:
        if gene.start >= lo and gene.end <= hi:
            ref.add_gene(gene)
    assert sum(len(t.cds) > 1 for t in ref.iter_transcripts()) >= 3
    labels = per_base_labels(list(ref.iter_transcripts()), lo, len(seq))
    logp = np.full((len(seq), 6), np.log(0.02), dtype=np.float32)
    logp[np.arange(len(seq)), labels] = np.log(0.9)
    genes = decode_viterbi(seq, logp, CODE)
    check_valid(seq, genes)
    pred = Annotation()
    for i, g in enumerate(genes, 1):
        g.cds = [(a + lo - 1, b + lo - 1) for a, b in g.cds]
        pred.add_gene(viterbi_gene_to_gene(g, seqid, i, "v"))
    res = evaluate(ref, pred, [seqid])
    assert res.total["gene"].f1 >= 0.9 and res.total["exon"].f1 >= 0.9
    multi = {t.chain() for t in ref.iter_transcripts() if len(t.cds) > 1}
    assert multi <= {t.chain() for t in pred.iter_transcripts()}


def test_pipeline_dispatches_to_viterbi_and_writes_spliced_genes(monkeypatch, tmp_path):
    from genet5.genome.fasta import write_fasta
    from genet5.genome.gff3_writer import write_gff3
    from genet5.predict import pipeline

    seq, segs = place(["ATG" + codons(40, 29) + "GC", intron(70), "A" + codons(30, 30) + "TAA"], seed=31)
    track = oracle_logp(len(seq), [("+", segs)]).astype(np.float32)
    monkeypatch.setattr(pipeline, "per_base_logprobs", lambda model, s, cfg, on_bases=None: track)
    write_fasta(tmp_path / "g.fa", [("chr1", seq)])
    cfg = pipeline.PredictConfig(genetic_code=1, decoder="viterbi")
    ann, _, stats = pipeline.predict_genome(None, tmp_path / "g.fa", cfg)
    genes = list(ann.iter_genes())
    assert stats.genes == 1
    assert [g.transcripts[0].chain() for g in genes] == [tuple(("+", a, b) for a, b in segs)]
    write_gff3(tmp_path / "p.gff3", ann, {"chr1": len(seq)})
    rows = [line.split("\t") for line in (tmp_path / "p.gff3").read_text().splitlines() if not line.startswith("#")]
    assert [(r[2], int(r[3]), int(r[4]), r[7]) for r in rows if r[2] == "CDS"] == [
        ("CDS", segs[0][0], segs[0][1], "0"), ("CDS", segs[1][0], segs[1][1], "1")]
    assert sum(r[2] == "exon" for r in rows) == 2


def test_batched_regions_decode_as_if_alone():
    # regions of different lengths advance together in one batch; one gene runs off the end
    rng = np.random.default_rng(32)
    parts, genes = "", []
    for i, n_codons in enumerate((40, 90, 61, 75)):
        gene_seq, segs = place(["ATG" + codons(n_codons, 33 + i) + "GC", intron(60 + 7 * i), "A" + codons(20, 40 + i) + "TAA"],
                               left=600 + 3 * int(rng.integers(0, 50)), right=0, seed=50 + i)
        genes.append(("+", [(a + len(parts), b + len(parts)) for a, b in segs]))
        parts += gene_seq
    tail = "ATG" + codons(50, 60)
    seq = parts + filler(600, 61) + tail
    genes.append(("+", [(len(seq) - len(tail) + 1, len(seq))]))
    logp = oracle_logp(len(seq), genes)
    together = decode_viterbi(seq.encode(), logp, CODE, min_len=60)
    alone = decode_viterbi(seq.encode(), logp, CODE, min_len=60, batch_bases=1)
    assert [(g.cds, g.end_partial) for g in together] == [(g.cds, g.end_partial) for g in alone]
    assert [g.cds for g in together] == [segs for _, segs in genes]
    assert together[-1].end_partial and not together[0].end_partial


def test_splice_pwm_gates_read_the_same_site_on_both_strands():
    """The donor / acceptor log-odds at a site on the plus strand equal those of the same site
    read on the minus strand (its reverse complement), and a consensus site outscores a poor one."""
    import json

    from genet5.predict.viterbi_decoder import SPLICE_PWM_FILE, build_hmm
    from genet5.predict.viterbi_hmm import _Ctx, padded_base_codes, splice_site_pwms

    hmm = build_hmm(genetic_code(1))
    pwm = splice_site_pwms(json.loads(SPLICE_PWM_FILE.read_text()))
    exon, intr = "ACGTACCAG", "GTAAGTCTAACTTTTTCTTTTTTTTTTCTTTTCCAG"
    good = "TTGCA" + exon + intr + "GTCATGCA"
    poor = "TTGCA" + "ACGTACCTC" + "GTCCCCCTAACTTAACAGAGACAGCGAACCGACAG" + "CTCATGCA"
    for seq in (good, poor):
        assert seq[5 + 9 : 5 + 11] == "GT"
    j = 5 + len(exon) - 1  # last exon base before the intron
    t = 5 + len(exon) + len(intr)  # first exon base after it

    def term(seq: str, which: str, pos: int) -> float:
        x = _Ctx(padded_base_codes(seq.encode()), np.array([pos]))
        return float(hmm._term(("pwm", which), x)[0])

    don, acc = term(good, "don", j), term(good, "acc", t)
    # by hand: the donor window j-2..j+6 and the acceptor window t-20..t, GT/AG columns zero
    codes = {"A": 0, "C": 1, "G": 2, "T": 3}
    off, table = pwm["don"]
    assert abs(don - sum(table[k][codes[good[j + off + k]]] for k in range(table.shape[0]))) < 1e-4
    assert don > 3 and acc > 3  # consensus MAG|GTAAGT and a pyrimidine tract + CAG|G
    assert term(poor, "don", j) < don - 3
    # the same intron on the minus strand: forward coordinates mirror
    rc = reverse_complement(good.encode()).decode()
    n = len(good)
    assert abs(term(rc, "rdon", n - 1 - j) - don) < 1e-4  # donor closes a minus intron
    assert abs(term(rc, "racc", n - 1 - t) - acc) < 1e-4  # acceptor opens it


def test_splice_pwm_weight_zero_is_gt_ag_alone():
    from genet5.predict.viterbi_decoder import build_hmm

    assert build_hmm(genetic_code(1), splice_pwm_weight=0).pwm == {}
    assert set(build_hmm(genetic_code(1)).pwm) == {"don", "acc", "racc", "rdon"}


def _two_gene_jobs():
    from genet5.predict.viterbi_decoder import RegionJob, emissions, intergenic_logp

    jobs = []
    for k in range(3):
        seq, segs = place(["ATG" + codons(60 + 9 * k, 70 + k) + "GC", intron(70 + 5 * k), "A" + codons(25, 80 + k) + "TAA"],
                          left=500 + 30 * k, right=400, seed=90 + k)
        logp = oracle_logp(len(seq), [("+", segs)])
        regions = candidate_regions(intergenic_logp(logp), 0.2, 100, 20_000)
        jobs.append((RegionJob(seq.encode(), regions, lambda g, lp=logp: emissions(lp[g])), segs))
    return jobs


def test_decode_jobs_gives_the_same_genes_and_scores_in_worker_processes_and_any_batching():
    from genet5.predict.viterbi_decoder import build_hmm, decode_jobs

    hmm = build_hmm(CODE)
    runs = []
    for workers, batch_bases in ((1, 500_000), (2, 500_000), (3, 1), (1, 1)):
        jobs = [job for job, _ in _two_gene_jobs()]
        found = decode_jobs(jobs, hmm, CODE, min_len=60, workers=workers, batch_bases=batch_bases)
        runs.append([[(g.strand, g.cds, g.score) for g in genes] for genes in found])
    assert [[cds for _, cds, _ in genes] for genes in runs[0]] == [[segs] for _, segs in _two_gene_jobs()]
    assert all(run == runs[0] for run in runs[1:])


def test_split_lanes_evens_out_batches_and_keeps_each_longest_first():
    from genet5.predict.viterbi_decoder import split_lanes

    lanes = [(0, n, j) for j, n in enumerate((900, 100, 800, 300, 700, 50, 20))]
    assert len(split_lanes(lanes, 10_000)) == 1
    assert len(split_lanes(lanes, 10_000, workers=2)) == 2
    assert len(split_lanes(lanes, 1000)) == 3  # 2870 bases, up to 1250 a batch
    for batches in (split_lanes(lanes, 1000), split_lanes(lanes, 10_000, workers=2)):
        assert sorted(x for b in batches for x in b) == sorted(lanes)
        assert all([b - a for a, b, _ in batch] == sorted((b - a for a, b, _ in batch), reverse=True) for batch in batches)
    two = split_lanes(lanes, 10_000, workers=2)
    assert {two[0][0][1], two[1][0][1]} == {900, 800}  # the two longest regions in different batches
    assert split_lanes(lanes[:1], 10, workers=4) == [lanes[:1]]


def test_a_failing_worker_process_is_reported():
    from genet5.predict.processes import in_processes

    def fn(x):
        if x == 2:
            raise ValueError("bad item")
        return x * 10

    assert in_processes(fn, [1, 3]) == [10, 30]
    with pytest.raises(RuntimeError, match="bad item"):
        in_processes(fn, [1, 2])


def test_viterbi_steps_do_not_depend_on_how_their_inputs_are_chunked(monkeypatch):
    import genet5.predict.viterbi_batch as vh
    from genet5.predict.viterbi_decoder import build_hmm, decode_jobs

    hmm = build_hmm(CODE)
    whole = [[(g.cds, g.score) for g in genes] for genes in decode_jobs([j for j, _ in _two_gene_jobs()], hmm, CODE, min_len=60)]
    monkeypatch.setattr(vh, "_STEP_CHUNK", 7)
    chunked = [[(g.cds, g.score) for g in genes] for genes in decode_jobs([j for j, _ in _two_gene_jobs()], hmm, CODE, min_len=60)]
    assert chunked == whole and all(whole)


def test_worker_count_takes_the_cpus_other_jobs_leave_idle(monkeypatch):
    import genet5.predict.viterbi_decoder as vd

    monkeypatch.setattr(vd.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for busy, want in ((0.1, 2), (0.9, 1), (2.0, 1)):  # sampled busy CPUs decide where they can be read
        monkeypatch.setattr(vd, "busy_cpus", lambda allowed, busy=busy: busy)
        monkeypatch.setattr(vd.os, "getloadavg", lambda: (5.0, 5.0, 5.0))  # a lagging load average is not read
        assert vd.worker_count() == want
    monkeypatch.setattr(vd, "busy_cpus", lambda allowed: None)  # no /proc/stat: the load average
    for load, want in ((0.2, 2), (0.7, 1), (1.6, 1), (7.0, 1)):
        monkeypatch.setattr(vd.os, "getloadavg", lambda load=load: (load, load, load))
        assert vd.worker_count() == want
    assert vd.worker_count(3) == 3  # asked for: as asked
    monkeypatch.setattr(vd.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(vd.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert vd.worker_count() == vd.MAX_WORKERS


def test_busy_cpus_reads_the_allowed_cpus_times_between_two_samples(tmp_path, monkeypatch):
    import genet5.predict.viterbi_decoder as vd

    stat = tmp_path / "stat"
    samples = iter([
        "cpu  0 0 0 0 0 0 0 0\ncpu0 100 0 0 900 0 0 0 0\ncpu1 100 0 0 900 0 0 0 0\ncpu2 0 0 0 0 0 0 0 0\n",
        "cpu  0 0 0 0 0 0 0 0\ncpu0 200 0 0 900 0 0 0 0\ncpu1 100 0 0 1000 0 0 0 0\ncpu2 50 0 0 50 0 0 0 0\n",
    ])
    stat.write_text(next(samples))
    monkeypatch.setattr("time.sleep", lambda s: stat.write_text(next(samples)))
    # cpu0 busy the whole interval, cpu1 idle: one busy CPU of the two allowed (cpu2 not allowed)
    assert vd.busy_cpus([0, 1], stat=str(stat)) == 1.0
    assert vd.busy_cpus([0, 1], stat=str(tmp_path / "missing")) is None


def test_compiled_steps_take_small_batches_with_the_same_genes(monkeypatch):
    import genet5.predict.viterbi_decoder as vd
    import genet5.predict.viterbi_kernels as vk

    if vk.KERNELS is None:
        pytest.skip("compiled loops off here (numba not importable, or GENET5_NUMBA=0)")
    hmm = vd.build_hmm(CODE)
    calls = []
    real = vd._decode_batch
    monkeypatch.setattr(vd, "_decode_batch", lambda jobs, batch, *a: calls.append(batch) or real(jobs, batch, *a))
    monkeypatch.setattr(vd, "COMPILED_BATCH_BASES", 300)  # below a region: one region a batch
    small = [[(g.cds, g.score) for g in genes] for genes in vd.decode_jobs([j for j, _ in _two_gene_jobs()], hmm, CODE, min_len=60)]
    assert len(calls) == 3 and all(len(batch) == 1 for batch in calls)
    calls.clear()
    monkeypatch.setattr(vk, "KERNELS", None)  # numpy steps: one batch of 500 kb
    whole = [[(g.cds, g.score) for g in genes] for genes in vd.decode_jobs([j for j, _ in _two_gene_jobs()], hmm, CODE, min_len=60)]
    assert len(calls) == 1 and small == whole and all(whole)
