"""genet5.lm on a tiny random Genos: chunked / windowed / batched passes equal plain forwards,
report windows cover the sequence, VCF effects equal ll(alt) - ll(ref), sampling is DNA and
reproducible."""

from __future__ import annotations

import gzip
from collections import Counter

import numpy as np
import pytest
import torch

from genet5 import lm
from genet5.genome.models import GenomeFormatError
from genet5.models.configs import get_preset
from genet5.models.genos import Genos, _nucleus
from genet5.tokenizers.nucleotide import A_ID, C_ID

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Genos(get_preset("genos-tiny")).eval()  # max_seq_len 256


def dna(n: int, seed: int = 0) -> str:
    s = list(np.random.default_rng(seed).choice(list("ACGT"), n))
    for i in range(7, n, 97):  # some N and IUPAC letters: input, never targets
        s[i] = "NRYnk"[i % 5]
    return "".join(s)


def full_forward(model, seq: str) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """Per-base log p (0 where not scored), scored mask and hidden states of one plain forward."""
    ids = torch.from_numpy(lm.encode(seq).astype(np.int64))[None]
    with torch.no_grad():
        h = model.hidden_states(ids)[0]
        logp = model.output(h).log_softmax(-1)
    tgt = ids[0, 1:]
    ok = (tgt >= C_ID) & (tgt <= A_ID)
    lp = torch.where(ok, logp[:-1].gather(-1, tgt[:, None])[:, 0], 0.0)
    return np.r_[0.0, lp.double().numpy()], np.r_[False, ok.numpy()], h


def test_chunked_scoring_equals_one_full_forward(model):
    seq = dna(600)
    lp_ref, ok_ref, _ = full_forward(model, seq)
    for chunk in (600, 128, 37):
        lp, ok = lm.log_likelihoods(model, seq, context=600, chunk=chunk)
        assert np.array_equal(ok, ok_ref)
        np.testing.assert_allclose(lp, lp_ref, atol=1e-4, rtol=0)
    total = lm.score_sequence(model, seq, context=600, chunk=50)
    assert total == pytest.approx(lp_ref.sum(), abs=1e-3, rel=1e-6)
    assert ok_ref.sum() == 600 - 1 - len(range(7, 600, 97))  # N/IUPAC and the first base: no target


def test_plan_spans_cover_every_position_once_with_bounded_context():
    for length in (0, 1, 5, 256, 257, 1000, 1023):
        for context, stride in ((256, None), (256, 256), (100, 30), (7, 1)):
            spans = lm.plan_spans(length, context, stride)
            owned = [p for sp in spans for p in range(sp.own, sp.end)]
            assert owned == list(range(length))
            st = stride or context // 2
            for sp in spans:
                assert sp.end - sp.start <= context
                if sp.start > 0:  # context of its first owned position
                    assert sp.own - sp.start >= context - st


def test_long_sequence_uses_overlapping_windows_exactly(model):
    seq = dna(700, seed=3)
    ids = lm.encode(seq)
    lp, ok = lm.log_likelihoods(model, seq, context=200, context_stride=64, chunk=64)
    for sp in lm.plan_spans(len(ids), 200, 64):  # each window is one plain forward of its bases
        e = min(sp.end + 1, len(ids))  # its last position predicts the base after it
        lp_w, ok_w, _ = full_forward(model, seq[sp.start : e])
        lo = sp.own + 1
        np.testing.assert_allclose(lp[lo:e], lp_w[lo - sp.start : e - sp.start], atol=1e-4, rtol=0)
        assert np.array_equal(ok[lo:e], ok_w[lo - sp.start : e - sp.start])
    # the default model window is the training context (genos-tiny: 256)
    default = lm.score_sequence(model, seq)
    assert default == pytest.approx(lm.score_sequence(model, seq, context=256, context_stride=128), abs=1e-6)
    assert default != pytest.approx(lm.score_sequence(model, seq, context=700), abs=1e-3)


def test_report_windows_cover_the_sequence_and_add_up(model):
    seq = dna(650, seed=5)
    whole = next(lm.score_records(model, [("s", seq)]))
    rows = list(lm.score_records(model, [("s", seq)], window=200))
    assert [(r.start, r.end) for r in rows] == [(0, 200), (200, 400), (400, 600), (600, 650)]
    assert sum(r.n_bases for r in rows) == whole.n_bases
    assert sum(r.log_likelihood for r in rows) == pytest.approx(whole.log_likelihood, abs=1e-6)
    lp, ok = lm.log_likelihoods(model, seq)
    over = list(lm.score_records(model, [("s", seq)], window=300, stride=100))
    assert [(r.start, r.end) for r in over] == [(0, 300), (100, 400), (200, 500), (300, 600), (400, 650)]
    for r in over:
        assert r.n_bases == ok[r.start : r.end].sum()
        assert r.log_likelihood == pytest.approx(lp[r.start : r.end].sum(), abs=1e-6)
        assert r.bits_per_base == pytest.approx(-r.log_likelihood / r.n_bases / np.log(2))


def test_batched_records_equal_one_at_a_time(model):
    recs = [(f"r{i}", dna(n, seed=i)) for i, n in enumerate((40, 300, 1, 120, 513))]
    batched = list(lm.score_records(model, recs, batch_tokens=4096, chunk=100))
    alone = [next(lm.score_records(model, [r], batch_tokens=1)) for r in recs]
    assert [r.seqid for r in batched] == [r[0] for r in recs]
    for a, b in zip(batched, alone):
        assert (a.n_bases, a.start, a.end) == (b.n_bases, b.start, b.end)
        assert a.log_likelihood == pytest.approx(b.log_likelihood, abs=1e-3)
    assert batched[2].n_bases == 0 and np.isnan(batched[2].bits_per_base)


def test_chunked_embeddings_equal_full_hidden_states(model):
    seq = dna(500, seed=7)
    _, _, h = full_forward(model, seq)
    want = {"mean": h.mean(0), "max": h.max(0).values, "last": h[-1]}
    for pool, ref in want.items():
        got = lm.embed_sequence(model, seq, pool=pool, context=500, chunk=64)
        assert got.dtype == np.float32 and got.shape == (64,)
        np.testing.assert_allclose(got, ref.numpy(), atol=1e-5, rtol=1e-5)
    rows = list(lm.embed_records(model, [("a", seq), ("b", seq[:90])], window=200, pool="mean", context=500))
    assert [(r[0], r[1], r[2]) for r in rows] == [("a", 0, 200), ("a", 200, 400), ("a", 400, 500), ("b", 0, 90)]
    np.testing.assert_allclose(rows[1][3], lm.embed_sequence(model, seq[200:400], context=500), atol=1e-6)


def write_vcf(path, body: str, gz: bool = False) -> None:
    text = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)


def test_vcf_reader_splits_alleles_and_skips_symbolic(tmp_path):
    write_vcf(tmp_path / "v.vcf.gz", "c1\t5\trs1\tA\tG,<DEL>,T\t.\t.\t.\nc1\t9\t.\tAC\tA,*\nc2\t1\tx\tg\t.\n", gz=True)
    skipped = Counter()
    vs = list(lm.read_vcf(tmp_path / "v.vcf.gz", skipped))
    assert [(v.chrom, v.pos, v.id, v.ref, v.alt, v.line) for v in vs] == [
        ("c1", 5, "rs1", "A", "G", 3), ("c1", 5, "rs1", "A", "T", 3), ("c1", 9, ".", "AC", "A", 4)]  # fmt: skip
    assert skipped == {"symbolic": 2, "missing": 1}


@pytest.mark.parametrize(
    "body, words",
    [
        ("c1\t5\trs1\tA\n", "v.vcf:3: expected at least 5 tab-separated columns (CHROM POS ID REF ALT), found 4"),
        ("c1\tfive\t.\tA\tG\n", "v.vcf:3: POS 'five' is not a positive integer"),
        ("c1\t5\t.\tA\tG!\n", "v.vcf:3: ALT 'G!' is neither a DNA sequence nor a symbolic allele"),
    ],
)
def test_vcf_bad_lines_name_file_and_line(tmp_path, body, words):
    write_vcf(tmp_path / "v.vcf", body)
    with pytest.raises(GenomeFormatError) as err:
        list(lm.read_vcf(tmp_path / "v.vcf"))
    assert str(err.value).endswith(words) and str(tmp_path / "v.vcf") in str(err.value)


def test_snv_and_indel_effects_equal_manual_windows(model, tmp_path):
    chrom = "".join(np.random.default_rng(11).choice(list("ACGT"), 400))
    ref = {"c1": chrom}
    p = 150  # 1-based POS
    b = chrom[p - 1]
    alt = "ACGT"[("ACGT".index(b) + 1) % 4]
    write_vcf(tmp_path / "v.vcf", f"c1\t{p}\trs1\t{b}\t{alt}\nc1\t{p}\trs2\t{chrom[p - 1:p + 2]}\t{b}\n")
    effects = list(lm.variant_effects(model, ref, lm.read_vcf(tmp_path / "v.vcf"), flank=60))
    lo, hi = p - 1 - 60, p + 60
    ref_win = chrom[lo:hi]
    alt_win = chrom[lo : p - 1] + alt + chrom[p:hi]
    ll_ref = lm.score_sequence(model, ref_win)
    assert effects[0].ll_ref == pytest.approx(ll_ref, abs=1e-4)
    assert effects[0].delta_ll == pytest.approx(lm.score_sequence(model, alt_win) - ll_ref, abs=1e-4)
    # deletion of 2 bases: the ref window spans REF (3 bases) + flanks; alt drops 2 bases
    ref3 = chrom[lo : p + 2 + 60]
    del_win = chrom[lo : p - 1] + b + chrom[p + 2 : p + 2 + 60]
    assert effects[1].ll_ref == pytest.approx(lm.score_sequence(model, ref3), abs=1e-4)
    assert effects[1].ll_alt == pytest.approx(lm.score_sequence(model, del_win), abs=1e-4)
    # windows are cut at the sequence ends
    r, a = lm.variant_windows(ref, lm.Variant("c1", 3, ".", chrom[2], "T"), flank=60)
    assert r == chrom[:63].encode() and a == (chrom[:2] + "T" + chrom[3:63]).encode()


def test_ref_mismatch_and_unknown_chrom_are_clear(model):
    ref = {"chr1": "ACGTACGTAC"}
    with pytest.raises(GenomeFormatError, match=r"v.vcf:12: chr1:3 REF A but the reference has G$"):
        lm.variant_windows(ref, lm.Variant("chr1", 3, ".", "A", "T", 12), vcf_path="v.vcf")
    with pytest.raises(GenomeFormatError, match=r"CHROM 'chr2' is not in the reference"):
        lm.variant_windows(ref, lm.Variant("chr2", 3, ".", "G", "T", 13), vcf_path="v.vcf")
    with pytest.raises(GenomeFormatError, match="runs past the end of chr1"):
        lm.variant_windows(ref, lm.Variant("chr1", 10, ".", "CA", "T", 14), vcf_path="v.vcf")


def test_sampling_is_dna_seeded_and_tiny_top_p_is_greedy(model):
    a = lm.sample_sequences(model, "ACGTN", 60, num_samples=3, seed=5)
    b = lm.sample_sequences(model, "ACGTN", 60, num_samples=3, seed=5)
    assert a == b and len(a) == 3 and all(len(s) == 60 and set(s) <= set("ACGT") for s in a)
    assert lm.sample_sequences(model, "ACGTN", 60, num_samples=3, seed=6) != a
    greedy = lm.sample_sequences(model, "ACGTN", 40, temperature=0)
    assert lm.sample_sequences(model, "ACGTN", 40, num_samples=2, top_p=1e-6, seed=1) == greedy * 2
    # the greedy continuation is the argmax over the four bases at every step
    ids = torch.from_numpy(lm.encode("ACGTN" + greedy[0]).astype(np.int64))[None]
    with torch.no_grad():
        logits = model(ids)[0, 4:-1]
    best = logits[:, list(lm.DNA_IDS)].argmax(-1)
    assert "".join("CGTA"[i] for i in best.tolist()) == greedy[0]


def test_empty_sequence_and_unusable_temperature_are_refused(model):
    with pytest.raises(ValueError, match="at least one base"):  # was a vector of NaN
        lm.embed_sequence(model, "")
    for t in (float("inf"), float("nan"), -1.0):  # inf and nan reached torch.multinomial
        with pytest.raises(ValueError, match="temperature must be a finite number >= 0"):
            lm.sample_sequences(model, "ACGT", 5, temperature=t)


def test_nucleus_keeps_smallest_set_reaching_p():
    logits = torch.tensor([[np.log(0.5), np.log(0.3), np.log(0.15), np.log(0.05)]], dtype=torch.float32)
    kept = lambda p: torch.isfinite(_nucleus(logits[:, [2, 0, 3, 1]], p))[0].tolist()  # noqa: E731
    assert kept(0.4) == [False, True, False, False]
    assert kept(0.7) == [False, True, False, True]
    assert kept(0.96) == [True, True, True, True]


def test_variant_effects_name_the_vcf_file_by_default(model, tmp_path):
    """A variant read from a VCF that does not fit the reference is reported with the VCF's file
    name and line (was `VCF:3: ...` unless vcf_path= was passed), raised or handed to on_mismatch;
    the VCF's path may be given in place of read_vcf(path). vcf_path= still overrides it."""
    ref = {"c1": "ACGTACGTACGTACGTACGT"}
    vcf = tmp_path / "v.vcf"
    write_vcf(vcf, "c1\t2\t.\tC\tA\nc1\t3\t.\tT\tA\n")
    want = f"{vcf}:4: c1:3 REF T but the reference has G"
    for variants in (lm.read_vcf(vcf), vcf, str(vcf)):
        with pytest.raises(GenomeFormatError) as err:
            list(lm.variant_effects(model, ref, variants, flank=5))
        assert str(err.value) == want
    seen = []
    got = list(lm.variant_effects(model, ref, lm.read_vcf(vcf), flank=5, on_mismatch=lambda v, e: seen.append(str(e))))
    assert [e.variant.pos for e in got] == [2] and seen == [want]
    with pytest.raises(GenomeFormatError, match=r"^other\.vcf:4: c1:3 REF T"):
        list(lm.variant_effects(model, ref, vcf, flank=5, vcf_path="other.vcf"))
    with pytest.raises(GenomeFormatError, match=r"^VCF:9: c1:3 REF T"):  # made by hand: no file to name
        lm.variant_windows(ref, lm.Variant("c1", 3, ".", "T", "A", 9))
