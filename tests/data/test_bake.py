"""GeneT5 bake: windows, strands, partial genes, determinism, resume, splits, the dataset."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genet5.data.bake import (
    BakeConfig,
    bake,
    bake_entry,
    mirror_transcript,
    reverse_complement_ids,
    sequence_samples,
    window_starts,
)
from genet5.data.bake import _new_stats
from genet5.data.shards import Shard, WindowDataset, verify_bake
from genet5.data.splits import discover, resolve_holdout
from genet5.genome.models import Gene, Segment, Transcript
from genet5.tokenizers.annotation import (
    GeneStructure,
    Tok,
    decode_genes,
    encode_genes,
    per_base_labels,
    shift_right,
)
from genet5.tokenizers.nucleotide import NucleotideTokenizer

from conftest import shared_genomes_dir

W, OV = 1024, 128  # fixture windows: starts 1, 897, 1793, ...

# (gene id, strand, CDS segments 1-based, extra GFF attributes)
GENES = [
    ("g1", "+", [(101, 400)], ""),  # single exon, with UTRs (mRNA 81..420)
    ("g2", "-", [(1501, 1700), (1801, 2000)], ""),  # spliced, minus; cut by the 1793 window edge
    ("g3", "+", [(3001, 3200), (3301, 3500), (3601, 3900)], ""),  # 3 exons across a window edge
    ("g4", "+", [(4501, 4800)], ";pseudo=true"),  # pseudogene: no target, no labels
    ("g5", "-", [(5101, 5400)], ""),
]


def _write_species(folder: Path, seed: int = 1, n_region: bool = True) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    chr1 = bytearray(rng.choice(list(b"ACGT"), 6000).astype(np.uint8).tobytes())
    chr2 = rng.choice(list(b"ACGT"), 1500).astype(np.uint8).tobytes()  # unannotated
    chr3 = bytearray(rng.choice(list(b"ACGT"), 3000).astype(np.uint8).tobytes())
    if n_region:
        chr3[0:2000] = b"N" * 2000  # windows here are mostly N
    chr1[10:20] = chr1[10:20].lower()  # soft mask is fine
    with gzip.open(folder / "genome.fa.gz", "wb") as fh:
        for name, seq in (("chr1", chr1), ("chr2", chr2), ("chr3", chr3)):
            fh.write(b">" + name.encode() + b"\n" + bytes(seq) + b"\n")
    rows = ["##gff-version 3"]
    for gid, strand, cds, extra in GENES:
        lo, hi = cds[0][0], cds[-1][1]
        mlo, mhi = (lo - 20, hi + 20) if gid == "g1" else (lo, hi)
        gtype = "pseudogene" if "pseudo" in extra else "gene"
        rows.append(f"chr1\tt\t{gtype}\t{mlo}\t{mhi}\t.\t{strand}\t.\tID={gid}{extra}")
        rows.append(f"chr1\tt\tmRNA\t{mlo}\t{mhi}\t.\t{strand}\t.\tID={gid}.t;Parent={gid}{extra}")
        exons = [(mlo, mhi)] if gid == "g1" else cds
        for a, b in exons:
            rows.append(f"chr1\tt\texon\t{a}\t{b}\t.\t{strand}\t.\tParent={gid}.t")
        for a, b in cds:
            rows.append(f"chr1\tt\tCDS\t{a}\t{b}\t.\t{strand}\t0\tParent={gid}.t")
    rows.append("chr3\tt\tgene\t2101\t2400\t.\t+\t.\tID=g6")
    rows.append("chr3\tt\tCDS\t2101\t2400\t.\t+\t0\tParent=g6")
    (folder / "annotation.gff3").write_text("\n".join(rows) + "\n")


@pytest.fixture
def raw(tmp_path) -> Path:
    root = tmp_path / "raw"
    _write_species(root / "bacteria" / "Testus_primus_A", seed=1)
    _write_species(root / "bacteria" / "Testus_primus_B", seed=2)  # same species, other strain
    _write_species(root / "fungi" / "Otherus_secundus", seed=3, n_region=False)
    return root


def _cfg(**kw) -> BakeConfig:
    return BakeConfig(window=W, overlap=OV, **kw)


def _genes_from_windows(ds: WindowDataset, species: str) -> tuple[set, set]:
    """(complete genes, CDS bases of partial genes) over all windows, in genomic terms:
    genes as (seqid, strand, segments), bases as (seqid, strand, position)."""
    chains, partial = set(), set()
    for i in range(len(ds)):
        s = ds[i]
        if s["species"] != species:
            continue
        n = len(s["input_ids"])
        for g in decode_genes(s["target_types"], s["target_pointers"], n):
            if s["strand"] == 1:
                strand, segs = g.strand, [(s["start"] + a, s["start"] + b) for a, b in g.segments]
            else:  # minus window position p is genome base end - p
                strand, segs = ("+" if g.strand == "-" else "-"), sorted((s["end"] - b, s["end"] - a) for a, b in g.segments)
            if g.cut_left or g.cut_right:
                partial |= {(s["seqid"], strand, x) for a, b in segs for x in range(a, b + 1)}
            else:
                chains.add((s["seqid"], strand, tuple(segs)))
    return chains, partial


def _check_genes(ds, species, ref: set, window: int, overlap: int, lengths: dict) -> None:
    """Genes lying inside some window come back whole; every other gene's CDS comes back as
    partial pieces covering exactly its bases; nothing else appears (both strands)."""
    chains, partial = _genes_from_windows(ds, species)

    def fits(seqid, segs):
        return any(s <= segs[0][0] and segs[-1][1] <= e for s, e in window_starts(lengths[seqid], window, overlap))

    whole = {r for r in ref if fits(r[0], r[2])}
    assert chains == whole
    cut = {(q, st, x) for q, st, segs in ref - whole for a, b in segs for x in range(a, b + 1)}
    all_ref = {(q, st, x) for q, st, segs in ref for a, b in segs for x in range(a, b + 1)}
    assert cut <= partial <= all_ref


def test_window_starts_cover_and_align_to_end():
    assert window_starts(100, 1024, 128) == [(1, 100)]
    assert window_starts(1024, 1024, 128) == [(1, 1024)]
    ws = window_starts(6000, 1024, 128)
    assert ws[:3] == [(1, 1024), (897, 1920), (1793, 2816)]
    assert ws[-1] == (4977, 6000) and all(e - s + 1 == 1024 for s, e in ws)
    assert window_starts(0, 1024, 128) == []


def test_minus_window_equals_codec_of_mirrored_gene():
    """Baking a plus gene on the minus strand = encoding the hand-mirrored gene."""
    L, s, e = 5000, 897, 1920
    tx = Transcript("t", "g", "chr", "+", cds=[Segment(1001, 1200, "+"), Segment(1301, 1500, "+"), Segment(1801, 2100, "+")])
    gene = Gene("g", "chr", "+", [tx])
    ids_all = NucleotideTokenizer().encode(np.random.default_rng(0).choice(list(b"ACGT"), L).astype(np.uint8).tobytes(), dtype=np.uint8)
    stats = _new_stats()
    samples = {(x.start, x.strand): x for x in sequence_samples(0, "chr", ids_all, [gene], _cfg(), "k", stats)}
    minus = samples[(s, -1)]
    n = e - s + 1
    # by hand: minus-window position p is genome base e - p; the window cuts the last exon
    # (1801..2100 runs past e=1920), which on the minus strand is the left (5') side.
    expected = GeneStructure("-", sorted((e - b, e - a) for a, b in [(1001, 1200), (1301, 1500), (1801, 1920)]), cut_left=True)
    assert (minus.types, minus.ptrs) == encode_genes([expected], n)
    assert [Tok(t).name for t in minus.types][:3] == ["GENE_MINUS", "CUT_LEFT", "ACCEPTOR"]  # starts inside the exon; its other end is the acceptor
    assert np.array_equal(minus.ids, reverse_complement_ids(ids_all[s - 1 : e]))
    # labels: reversing the plus labels equals labelling the mirrored transcript directly
    direct = per_base_labels([mirror_transcript(tx, L)], L + 1 - e, n)
    assert np.array_equal(minus.labels, direct.astype(np.uint8))
    assert np.array_equal(samples[(s, 1)].labels[::-1], minus.labels)
    # the plus window: cut at the right, inside the last exon
    plus = samples[(s, 1)]
    assert [Tok(t).name for t in plus.types][-3:] == ["ACCEPTOR", "CUT_RIGHT", "EOS"]
    assert stats["partial_genes"] >= 2


def test_mirror_twice_is_identity():
    tx = Transcript("t", "g", "c", "-", cds=[Segment(300, 400, "-"), Segment(100, 200, "-")], exons=[Segment(300, 450, "-")])
    assert mirror_transcript(mirror_transcript(tx, 1000), 1000) == tx
    m = mirror_transcript(tx, 1000)
    assert m.strand == "+" and [(x.start, x.end) for x in m.cds] == [(601, 701), (801, 901)]


def test_bake_fixture_end_to_end(raw, tmp_path):
    out = tmp_path / "out"
    index = bake(raw, out, _cfg(holdout=["Testus primus"]), show_progress=False)
    # split by species: both strains of Testus primus are held out together
    splits = {s["key"]: s["split"] for s in index["species"]}
    assert splits == {"bacteria__Testus_primus_A": "valid", "bacteria__Testus_primus_B": "valid", "fungi__Otherus_secundus": "train"}
    stats = json.loads((out / "species" / "bacteria__Testus_primus_A" / "stats.json").read_text())
    n_chr1 = len(window_starts(6000, W, OV))
    chr3 = window_starts(3000, W, OV)
    n_skip = sum(1 for s, e in chr3 if s <= 1000)  # >50% N: windows starting in the N run
    assert stats["sequences_unannotated"] == 1  # chr2
    assert stats["windows_skipped_n"] == 2 * n_skip
    assert stats["windows"] == 2 * (n_chr1 + len(chr3) - n_skip)
    assert stats["pseudo_transcripts_excluded"] == 1
    assert stats["partial_genes"] > 0 and stats["genes_unrepresentable"] == 0
    assert set(stats["bases_by_label"]) == {"intergenic", "cds_frame0", "cds_frame1", "cds_frame2", "intron", "utr"}
    assert stats["bases_by_label"]["utr"] > 0 and stats["bases_by_label"]["intron"] > 0
    cfg_json = json.loads((out / "bake_config.json").read_text())
    assert cfg_json["window"] == W and "genet5_version" in cfg_json

    valid = WindowDataset(out, split="valid")
    train = WindowDataset(out, split="train")
    assert len(valid) + len(train) == len(WindowDataset(out, split=None)) == sum(s["windows"] for s in index["species"])
    s = valid[0]
    assert s["input_ids"].dtype == np.int64 and len(s["input_ids"]) == len(s["base_labels"]) == W
    assert s["target_types"][-1] == Tok.EOS and len(s["target_types"]) == len(s["target_pointers"])
    assert np.array_equal(valid.lengths("input_ids"), [len(valid[i]["input_ids"]) for i in range(len(valid))])
    assert np.array_equal(valid.lengths("target_types"), [len(valid[i]["target_types"]) for i in range(len(valid))])
    import pickle

    assert len(pickle.dumps(valid)) < 10_000  # shards are not pickled into DataLoader workers
    assert np.array_equal(pickle.loads(pickle.dumps(valid))[0]["input_ids"], s["input_ids"])
    t_in, _ = shift_right(s["target_types"].tolist(), s["target_pointers"].tolist())
    assert t_in[0] == Tok.BOS
    # every coding, non-pseudo gene comes back whole from some window on each strand, and
    # no pseudogene or invented gene appears
    expected = {("chr1", st, tuple(c)) for g, st, c, extra in GENES if not extra} | {("chr3", "+", ((2101, 2400),))}
    _check_genes(valid, "bacteria__Testus_primus_A", expected, W, OV, {"chr1": 6000, "chr3": 3000})
    chains, _ = _genes_from_windows(valid, "bacteria__Testus_primus_A")
    assert ("chr1", "-", ((1501, 1700), (1801, 2000))) not in chains  # g2 is only ever cut
    # pseudogene bases are not labelled as coding
    for i in range(len(valid)):
        x = valid[i]
        if x["seqid"] == "chr1" and x["strand"] == 1 and x["start"] <= 4501 and x["end"] >= 4800:
            assert (x["base_labels"][4501 - x["start"] : 4800 - x["start"] + 1] == 0).all()
            break
    else:
        pytest.fail("no window holds the pseudogene")
    # genetic code default 1 (no manifest, no transl_table); the shard metadata names sequences
    assert s["genetic_code"] == 1
    sh = Shard(out / index["species"][0]["shards"][0]["file"])
    assert json.loads(sh.metadata["seqids"]) == ["chr1", "chr3"]


def test_bake_is_deterministic_and_verifiable(raw, tmp_path):
    a = bake(raw, tmp_path / "a", _cfg(subset=0.5, seed=7), show_progress=False)
    b = bake(raw, tmp_path / "b", _cfg(subset=0.5, seed=7, workers=2), show_progress=False)
    sums = lambda ix: [(sh["file"], sh["sha256"]) for s in ix["species"] for sh in s["shards"]]  # noqa: E731
    assert sums(a) == sums(b)
    assert verify_bake(tmp_path / "a") == []
    c = bake(raw, tmp_path / "c", _cfg(subset=0.5, seed=8), show_progress=False)
    assert sums(c) != sums(a)
    # subset keeps about half, deterministically per window
    full = bake(raw, tmp_path / "full", _cfg(), show_progress=False)
    n_full, n_half = full["totals"]["train"]["windows"], a["totals"]["train"]["windows"]
    assert 0.25 * n_full < n_half < 0.75 * n_full
    f = tmp_path / "a" / a["species"][0]["shards"][0]["file"]
    data = bytearray(f.read_bytes())
    data[-1] ^= 1
    f.write_bytes(bytes(data))
    assert verify_bake(tmp_path / "a") == [a["species"][0]["shards"][0]["file"]]


def test_bake_resumes_and_redoes_changed(raw, tmp_path):
    out = tmp_path / "out"
    bake(raw, out, _cfg(), show_progress=False)
    key = "bacteria__Testus_primus_A"
    shard = out / "species" / key / "shard-00000.safetensors"
    other = out / "species" / "fungi__Otherus_secundus" / "shard-00000.safetensors"
    for f in (shard, other):  # an old mtime marks "not rewritten" (no clock-resolution races)
        os.utime(f, (1, 1))
    (out / "species" / key / "DONE.json").unlink()  # as if killed before the marker
    entries = {e.key: e for e in discover(raw)}
    bake_entry(entries["fungi__Otherus_secundus"], out, _cfg())  # done: skipped
    assert other.stat().st_mtime == 1
    bake(raw, out, _cfg(), show_progress=False)
    assert shard.stat().st_mtime != 1 and other.stat().st_mtime == 1
    bake(raw, out, BakeConfig(window=512, overlap=64), show_progress=False)  # other options: redone
    assert other.stat().st_mtime != 1
    assert WindowDataset(out, split=None)[0]["input_ids"].shape == (512,)


def test_holdout_rules(raw):
    entries = discover(raw)
    assert resolve_holdout(entries, ["Testus_primus_B"]) == {"Testus primus"}  # one strain -> group
    assert resolve_holdout(entries, ["testus primus a"], rule="genome") == {"bacteria__Testus_primus_A"}
    with pytest.raises(ValueError, match="matches no species"):
        resolve_holdout(entries, ["Vibrio"])


def test_manifest_groups_strains(tmp_path):
    _write_species(tmp_path / "p" / "M_g_1")
    _write_species(tmp_path / "p" / "M_g_2", seed=5)
    (tmp_path / "manifest.tsv").write_text(
        "path\tspecies\ttaxon\tgenetic_code\tannotation\n"
        "p/M_g_1\tMycoplasma gallisepticum strain 1\tprokaryotes\t4\tannotation.gff3\n"
        "p/M_g_2\tMycoplasma gallisepticum strain 2\tprokaryotes\t4\tannotation.gff3\n"
    )
    entries = discover(tmp_path / "manifest.tsv")
    assert {e.group() for e in entries} == {"Mycoplasma gallisepticum"}
    assert resolve_holdout(entries, ["p/M_g_2"]) == {"Mycoplasma gallisepticum"}
    index = bake(tmp_path / "manifest.tsv", tmp_path / "out", _cfg(), show_progress=False)
    assert WindowDataset(tmp_path / "out", split="train")[0]["genetic_code"] == 4
    assert index["totals"]["valid"]["windows"] == 0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "genet5", *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cli_bake_and_bad_input(raw, tmp_path):
    r = _cli("bake", raw, tmp_path / "o", "--window", 2048, "--overlap", 256, "--holdout", "Otherus secundus", "-q")
    assert r.returncode == 0, r.stderr
    assert "valid: 1 genomes" in r.stdout and (tmp_path / "o" / "index.json").is_file()
    splits = tmp_path / "splits.tsv"  # --splits: the same hold-out, read from a splits file
    splits.write_text("path\tsplit\nbacteria/Testus_primus_A\ttrain\nbacteria/Testus_primus_B\ttrain\nfungi/Otherus_secundus\tvalidation\n")
    r = _cli("bake", raw, tmp_path / "o1", "--window", 2048, "--overlap", 256, "--splits", splits, "-q")
    assert r.returncode == 0, r.stderr
    assert "valid: 1 genomes" in r.stdout and "held out: Otherus secundus" in r.stdout
    r = _cli("bake", raw, tmp_path / "o1b", "--splits", tmp_path / "nope.tsv", "-q")
    assert r.returncode == 2 and "nope.tsv: no such file" in r.stderr
    r = _cli("bake", raw, tmp_path / "o2", "--holdout", "Nonexistus", "-q")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "matches no species" in r.stderr
    r = _cli("bake", raw, tmp_path / "o3", "--overlap", 5000, "-q")
    assert r.returncode == 2 and "--overlap" in r.stderr
    (raw / "fungi" / "Otherus_secundus" / "annotation.gff3").write_text("chr1\tt\tCDS\t1\t10\n")
    r = _cli("bake", raw, tmp_path / "o4", "-q", "--workers", 2)
    assert r.returncode == 2 and r.stderr.startswith("genet5: error: ") and "annotation.gff3:1" in r.stderr
    assert "Traceback" not in r.stderr


def test_real_phage_round_trip(tmp_path):
    root = shared_genomes_dir()
    if root is None:
        pytest.skip("shared genomes not found (../shared/genomes or $GENET5_SHARED); real-data test skipped")
    from genet5.genome.readers import load_annotation

    (entry,) = [e for e in discover(root / "manifest.tsv") if e.key == "phages__enterobacteria_phage_NC_016566"]
    out = tmp_path / "out"
    (out / "species").mkdir(parents=True)
    done = bake_entry(entry, out, BakeConfig())
    from genet5.data.bake import write_index

    write_index(out, [entry], set(), BakeConfig(), {entry.key: done})
    ds = WindowDataset(out)
    assert len(ds) == 2 * len(window_starts(44077, 4096, 512)) == done["stats"]["windows"]
    assert all(ds[i]["genetic_code"] == 11 for i in range(len(ds)))
    annot = load_annotation(entry.annotation)
    ref = {
        (t.seqid, t.strand, tuple(sorted((s.start, s.end) for s in t.cds)))
        for t in annot.iter_transcripts()
        if t.is_coding and not t.pseudo
    }
    _check_genes(ds, entry.key, ref, 4096, 512, {t.seqid: 44077 for t in annot.iter_transcripts()})


def test_shards_are_standard_safetensors(tmp_path):
    from safetensors.numpy import load_file

    from genet5.data.shards import write_safetensors

    t = {"a": np.arange(5, dtype=np.uint8), "b": np.arange(6, dtype=np.int64).reshape(2, 3), "c": np.array([-100, 3], np.int32),
         "empty": np.zeros(0, np.int64)}  # fmt: skip
    d1 = write_safetensors(tmp_path / "x.safetensors", t, {"k": "v", "a": "b"})
    d2 = write_safetensors(tmp_path / "y.safetensors", dict(reversed(t.items())), {"a": "b", "k": "v"})
    assert d1 == d2  # independent of dict order
    back = load_file(tmp_path / "x.safetensors")
    sh = Shard(tmp_path / "x.safetensors")
    for k, v in t.items():
        assert np.array_equal(back[k], v) and np.array_equal(sh[k], v) and sh[k].dtype == v.dtype
    assert sh.metadata == {"k": "v", "a": "b"}
    (tmp_path / "bad.safetensors").write_bytes(b"\x05\x00")
    with pytest.raises(ValueError, match="bad.safetensors: not a safetensors shard"):
        Shard(tmp_path / "bad.safetensors")


def test_group_key_is_the_binomial():
    from genet5.data.splits import Entry

    e = lambda sp: Entry("k", "p", sp, "", Path("g.fa"), None, None)  # noqa: E731
    assert e("Caenorhabditis elegans, first 1% of each chromosome (WS270)").group() == "Caenorhabditis elegans"
    assert e("Mycoplasma gallisepticum strain NC_004829").group() == "Mycoplasma gallisepticum"
    assert e("Escherichia_phage_MH051335").group() == "Escherichia phage"
    assert e("Escherichia phage MH051335").group("genome") == "k"


def test_a_changed_input_file_is_baked_again(raw, tmp_path):
    """The per-genome content hash covers the input files (size, modification time): an
    annotation fixed after a bake into the same OUT_DIR is baked again, the others are kept."""
    out = tmp_path / "out"
    bake(raw, out, _cfg(), show_progress=False)
    key = "bacteria__Testus_primus_A"
    shard = out / "species" / key / "shard-00000.safetensors"
    other = out / "species" / "fungi__Otherus_secundus" / "shard-00000.safetensors"
    for f in (shard, other):
        os.utime(f, (1, 1))
    genes_before = json.loads((out / "species" / key / "stats.json").read_text())["annotated_genes"]
    annotation = raw / "bacteria" / "Testus_primus_A" / "annotation.gff3"
    # the fix: g6 on chr3 left out (another gene count, and other shard bytes)
    annotation.write_text("".join(line for line in annotation.read_text().splitlines(keepends=True) if "g6" not in line))
    bake(raw, out, _cfg(), show_progress=False)
    assert shard.stat().st_mtime != 1 and other.stat().st_mtime == 1
    assert json.loads((out / "species" / key / "stats.json").read_text())["annotated_genes"] == genes_before - 1


def test_genes_on_sequences_missing_from_the_fasta_are_warned_and_an_empty_train_split_refused(raw, tmp_path):
    annotation = raw / "bacteria" / "Testus_primus_A" / "annotation.gff3"
    annotation.write_text(annotation.read_text().replace("chr3\t", "contig_3\t"))  # g6 on a sequence not in the FASTA
    said: list[str] = []
    index = bake(raw, tmp_path / "a", _cfg(), show_progress=False, log=said.append)
    (line,) = said
    assert line.startswith(f"genet5: warning: {annotation}: 1 of 6 genes are on 1 sequence(s) not in ")
    assert line.endswith("(contig_3): left out of the bake")
    assert index["totals"]["train"]["windows"] > 0
    # every gene of every train genome on a sequence its FASTA lacks: no window to train on
    for folder in ("bacteria/Testus_primus_A", "bacteria/Testus_primus_B"):
        a = raw / folder / "annotation.gff3"
        a.write_text(a.read_text().replace("chr1\t", "Chr1\t").replace("chr3\t", "Chr3\t"))
    said.clear()
    with pytest.raises(ValueError, match=r"^the train split holds no windows \(its genes are all on sequences "
                                         r"missing from the FASTA files\): nothing to train on$"):
        bake(raw, tmp_path / "b", _cfg(holdout=["Otherus secundus"]), show_progress=False, log=said.append)
    assert len(said) == 2 and not (tmp_path / "b" / "index.json").exists()  # not a finished bake
    with pytest.raises(ValueError, match="every input is held out"):  # before any work
        bake(raw, tmp_path / "c", _cfg(holdout=["Testus primus", "Otherus secundus"]), show_progress=False)
    assert not (tmp_path / "c").exists()


def test_a_directory_that_is_not_a_bake_says_so(raw, tmp_path):
    from genet5.genome.models import GenomeFormatError

    with pytest.raises(GenomeFormatError, match=r"not a bake \(no index\.json; give the output directory of `genet5 bake`\)"):
        WindowDataset(raw)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "bake_config.json").write_text("{}")  # a bake killed before its index
    with pytest.raises(GenomeFormatError, match="not a finished bake"):
        WindowDataset(tmp_path / "half")
