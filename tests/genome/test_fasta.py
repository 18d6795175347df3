import gzip
import io
import os
import time

import pytest
from Bio import bgzf

from genet5.genome import fasta as fasta_mod
from genet5.genome.fasta import Genome, detect_compression, read_fasta, write_fasta
from genet5.genome.models import GenomeFormatError


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _bgzip(path, data: bytes):
    with bgzf.BgzfWriter(str(path), "wb") as fh:
        fh.write(data)
    return path


SIMPLE = b">chr1 first one\nACGTacgtNN\nRYKMacgt\n>chr2\nUUAA\n"


def test_read_basic_mask_iupac(tmp_path):
    recs = list(read_fasta(_write(tmp_path / "a.fa", SIMPLE)))
    assert [r.id for r in recs] == ["chr1", "chr2"]
    r1, r2 = recs
    assert r1.description == "first one"
    assert r1.seq == b"ACGTACGTNNNNNNACGT"
    assert r1.mask == [(4, 8), (14, 18)]
    assert r1.n_iupac == 4
    assert r2.seq == b"TTAA" and r2.n_iupac == 0 and r2.mask == []


def test_crlf_blank_lines_and_spaces(tmp_path):
    data = b"\r\n>s1 desc\r\nAC GT\r\n\r\nacg\r\n\r\n>s2\r\nT\r\n"
    recs = list(read_fasta(_write(tmp_path / "crlf.fa", data)))
    assert [(r.id, r.seq, r.mask) for r in recs] == [("s1", b"ACGTACG", [(4, 7)]), ("s2", b"T", [])]


@pytest.mark.parametrize("compress", [False, True])
def test_old_mac_line_ends_and_a_byte_order_mark_read_as_fasta(tmp_path, compress):
    """CR-only line ends (classic Mac OS) end lines, a UTF-8 byte-order mark is skipped; the
    reader and the random-access Genome agree."""
    for name, data in (("cr.fa", b">x first\rACGTac\rGGTT\r>y\rACGTN\r"),
                       ("bom.fa", b"\xef\xbb\xbf>x first\nACGTac\nGGTT\n>y\nACGTN\n")):
        p = tmp_path / (name + (".gz" if compress else ""))
        p.write_bytes(gzip.compress(data) if compress else data)
        recs = list(read_fasta(p))
        assert [(r.id, r.description, r.seq, r.mask) for r in recs] == [("x", "first", b"ACGTACGGTT", [(4, 6)]),
                                                                        ("y", "", b"ACGTN", [])], name
        g = Genome(p)
        assert g.lengths == {"x": 10, "y": 5} and g.fetch("x", 3, 8) == b"GTACGG", name


@pytest.mark.parametrize("kind", ["gzip", "bgzip"])
def test_compression_detected_by_magic_not_name(tmp_path, kind):
    path = tmp_path / "genome.txt"  # misleading extension on purpose
    if kind == "gzip":
        path.write_bytes(gzip.compress(SIMPLE))
    else:
        _bgzip(path, SIMPLE)
    assert detect_compression(path) == kind
    assert [r.seq for r in read_fasta(path)] == [b"ACGTACGTNNNNNNACGT", b"TTAA"]


def _err(path) -> GenomeFormatError:
    with pytest.raises(GenomeFormatError) as ei:
        list(read_fasta(path))
    return ei.value


def test_error_invalid_characters_name_char_and_line(tmp_path):
    for bad, ch in ((b"AC1T", "'1'"), (b"AC*T", "'*'"), (b"AC-T", "'-'")):
        path = _write(tmp_path / "bad.fa", b">ok\nACGT\n>x\nACGT\n" + bad + b"\n")
        e = _err(path)
        assert e.line == 5 and str(path) in str(e) and f"{path}:5:" in str(e)
        assert ch in e.problem and "'x'" in e.problem


def test_error_duplicate_id(tmp_path):
    e = _err(_write(tmp_path / "dup.fa", b">a\nAC\n>b\nGG\n>a other\nTT\n"))
    assert e.line == 5 and "duplicate" in e.problem and "'a'" in e.problem


def test_error_empty_record(tmp_path):
    e = _err(_write(tmp_path / "e.fa", b">a\nAC\n>b\n\n>c\nTT\n"))
    assert e.line == 3 and "'b'" in e.problem and "no sequence" in e.problem


def test_error_empty_file(tmp_path):
    e = _err(_write(tmp_path / "empty.fa", b"\n\n"))
    assert "no records" in e.problem and str(tmp_path / "empty.fa") in str(e)
    e = _err(_write(tmp_path / "empty.fa.gz", gzip.compress(b"")))
    assert "no records" in e.problem


def test_error_not_fasta_and_binary(tmp_path):
    e = _err(_write(tmp_path / "x.fa", b"\nthis is a GFF file\n>a\nAC\n"))
    assert e.line == 2 and "does not start with '>'" in e.problem
    e = _err(_write(tmp_path / "bin.fa", bytes(range(1, 256)) + b"\x00\x01"))
    assert e.line == 1 and "not a FASTA" in e.problem


def test_error_truncated_and_corrupt_gzip(tmp_path):
    data = gzip.compress(b">a\n" + b"ACGT" * 5000 + b"\n")
    e = _err(_write(tmp_path / "trunc.fa.gz", data[: len(data) // 2]))
    assert "truncated gzip" in e.problem and e.line is not None and str(tmp_path / "trunc.fa.gz") in str(e)
    corrupt = bytearray(data)
    corrupt[40:60] = b"\xff" * 20
    e = _err(_write(tmp_path / "bad.fa.gz", bytes(corrupt)))
    assert "gzip" in e.problem


def test_error_header_without_name(tmp_path):
    e = _err(_write(tmp_path / "h.fa", b">\nACGT\n"))
    assert e.line == 1 and "name" in e.problem


def test_other_compressors_refused(tmp_path):
    import bz2

    e = _err(_write(tmp_path / "g.fa.bz2", bz2.compress(SIMPLE)))
    assert "bzip2" in e.problem


def test_streaming_is_lazy(tmp_path):
    # The error in record 3 is only met when iteration reaches it: records stream one by one.
    path = _write(tmp_path / "lazy.fa", b">a\nAC\n>b\nGT\n>c\nA#\n")
    it = read_fasta(path)
    assert next(it).id == "a" and next(it).id == "b"
    with pytest.raises(GenomeFormatError):
        next(it)


# --- Genome ------------------------------------------------------------------------------------

GENOME = b">chr1 x\n" + b"ACGTACGTAC\nacgtRYNNAC\nGG\n" + b">chr2\nTTTTT\nCCCCC\n"


def _check_genome(g: Genome):
    assert g.ids == ["chr1", "chr2"]
    assert g.lengths == {"chr1": 22, "chr2": 10}
    assert "chr1" in g and "chrX" not in g
    assert g.fetch("chr1", 1, 4) == b"ACGT"
    assert g.fetch("chr1", 9, 16) == b"ACACGTNN"  # across a line break, lower case and IUPAC
    assert g.fetch("chr1", 22, 22) == b"G"
    assert g.fetch("chr2", 4, 7) == b"TTCC"
    assert g.iupac_counts == {"chr1": 2, "chr2": 0} and g.total_iupac == 2
    for bad in ((0, 3), (20, 23), (5, 3)):
        with pytest.raises(GenomeFormatError, match=r"chr1:%d-%d outside" % bad):
            g.fetch("chr1", *bad)
    with pytest.raises(GenomeFormatError, match="no sequence 'chrX'"):
        g.fetch("chrX", 1, 2)


def test_genome_plain_writes_fai(tmp_path):
    path = _write(tmp_path / "g.fa", GENOME)
    g = Genome(path)
    assert g._faidx is not None  # indexed, not loaded
    _check_genome(g)
    fai = (tmp_path / "g.fa.fai").read_text().split("\n")[0].split("\t")
    assert fai == ["chr1", "22", "8", "10", "11"]  # samtools faidx layout


@pytest.mark.parametrize("width, order", [(7, ("a", "b", "c")), (10, ("b", "a", "c")), (10, ("a", "b"))])
def test_a_stale_fai_is_rebuilt_whatever_its_time(tmp_path, width, order):
    """A FASTA replaced by one of another line width, record order or count whose time is older
    than its .fai (cp -p, tar x): pyfaidx trusts the index by time and read the old offsets (wrong
    bases, no error); the index is checked against the file's layout and rebuilt."""
    seqs = {"a": "ACGTACGTTTGACCA" * 3, "b": "GGGCCCAAAT" * 4, "c": "TTAACCGG" * 5}
    path = tmp_path / "g.fa"
    path.write_text("".join(f">{k} x\n" + "\n".join(v[i:i + 10] for i in range(0, len(v), 10)) + "\n" for k, v in seqs.items()))
    assert Genome(path).fetch("b", 1, 40) == seqs["b"].encode() and (tmp_path / "g.fa.fai").exists()
    path.write_text("".join(f">{k}\n" + "\n".join(seqs[k][i:i + width] for i in range(0, len(seqs[k]), width)) + "\n"
                            for k in order))
    os.utime(path, (1_000_000, 1_000_000))  # older than the index
    g = Genome(path)
    for k in order:
        assert g.fetch(k, 1, len(seqs[k])) == seqs[k].encode(), k
    assert set(g.lengths) == set(order)


def test_genome_unwritable_dir_indexes_in_memory(tmp_path, monkeypatch):
    path = _write(tmp_path / "g.fa", GENOME)
    monkeypatch.setattr(fasta_mod.os, "access", lambda *a, **k: False)
    g = Genome(path)
    _check_genome(g)
    assert not (tmp_path / "g.fa.fai").exists()


def test_genome_bgzip_indexed(tmp_path):
    path = _bgzip(tmp_path / "g.fa.gz", GENOME)
    g = Genome(path)
    assert g.compression == "bgzip" and g._faidx is not None
    _check_genome(g)


def test_genome_bgzip_odd_name_and_gzip_loaded(tmp_path):
    g = Genome(_bgzip(tmp_path / "g.bgzipped", GENOME))
    _check_genome(g)
    g = Genome(_write(tmp_path / "g2.fa.gz", gzip.compress(GENOME)))
    assert g.compression == "gzip" and g._seqs is not None
    _check_genome(g)


def test_genome_irregular_lines_falls_back(tmp_path):
    path = _write(tmp_path / "irr.fa", b">chr1 x\nACGTACGTAC\nacgtRY\nNNAC\n\nGG\n>chr2\nTTTTTCCCCC\n")
    _check_genome(Genome(path))


def test_genome_bad_files_clear_errors(tmp_path):
    with pytest.raises(GenomeFormatError, match="does not start with '>'"):
        Genome(_write(tmp_path / "x.fa", b"hello\n"))
    with pytest.raises(GenomeFormatError, match="no records"):
        Genome(_write(tmp_path / "e.fa", b""))
    with pytest.raises(GenomeFormatError, match="duplicate"):
        Genome(_write(tmp_path / "d.fa", b">a\nAC\n>a\nAC\n"))
    with pytest.raises(GenomeFormatError, match="no such file"):
        Genome(tmp_path / "missing.fa")


# --- writer ------------------------------------------------------------------------------------


def test_write_fasta_wraps_and_round_trips(tmp_path):
    path = tmp_path / "out.fa"
    write_fasta(path, [("a desc", b"ACGT" * 20), ("b", "TTT")], width=60)
    text = path.read_text()
    assert text == ">a desc\n" + "ACGT" * 15 + "\n" + "ACGT" * 5 + "\n>b\nTTT\n"
    assert [(r.id, r.seq) for r in read_fasta(path)] == [("a", b"ACGT" * 20), ("b", b"TTT")]


def test_write_fasta_is_atomic(tmp_path):
    path = tmp_path / "out.fa"
    path.write_text(">old\nAC\n")

    def records():
        yield ("a", b"ACGT")
        raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError):
        write_fasta(path, records())
    assert path.read_text() == ">old\nAC\n"  # old file intact
    assert os.listdir(tmp_path) == ["out.fa"]  # no temporary file left behind


def test_write_fasta_to_handles():
    b = io.BytesIO()
    write_fasta(b, [("x", b"ACG")])
    assert b.getvalue() == b">x\nACG\n"
    s = io.StringIO()
    write_fasta(s, [("y", "TT")], width=1)
    assert s.getvalue() == ">y\nT\nT\n"


# --- real data -----------------------------------------------------------------------------------


def test_arabidopsis_chr1_streams_fast(shared_genomes):
    path = shared_genomes / "plants/Arabidopsis_thaliana_TAIR10_chr1/genome.fa.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    t0 = time.perf_counter()
    recs = list(read_fasta(path))
    dt = time.perf_counter() - t0
    assert len(recs) == 1 and len(recs[0].seq) > 30_000_000
    assert set(recs[0].seq) <= set(b"ACGTN")
    assert recs[0].mask and recs[0].mask[0][0] == 0  # TAIR10 starts soft-masked (telomere repeat)
    assert dt < 15, f"read_fasta took {dt:.1f}s on 30 Mb (expected ~2 s)"


def test_ecoli_genome_fetch_matches_stream(shared_genomes):
    path = shared_genomes / "prokaryotes/Escherichia_coli_K12_MG1655/genome.fa.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    rec = next(read_fasta(path))
    g = Genome(path)
    assert g.lengths == {rec.id: len(rec.seq)}
    assert g.fetch(rec.id, 337, 2799) == rec.seq[336:2799]
    assert g.fetch(rec.id, 337, 339) == b"ATG"  # thrA start codon


def test_genome_crlf_indexed(tmp_path):
    g = Genome(_write(tmp_path / "crlf.fa", b">a x\r\nACGTacgtAC\r\nGGN\r\n>b\r\nTTTT\r\n"))
    assert g._faidx is not None and g.lengths == {"a": 13, "b": 4}
    assert g.fetch("a", 8, 13) == b"TACGGN" and g.sequence("b") == b"TTTT"


def test_missing_file(tmp_path):
    with pytest.raises(GenomeFormatError, match="no such file"):
        list(read_fasta(tmp_path / "nope.fa"))


def _naive(data: bytes):
    """Slow obvious reference: split lines, collect records; (id, seq, mask, n_iupac) tuples."""
    out, cur = [], None
    for line in data.split(b"\n"):
        line = line.strip()
        if line.startswith(b">"):
            cur = [line[1:].split()[0].decode(), b""]
            out.append(cur)
        elif line:
            cur[1] += line.replace(b" ", b"")
    res = []
    for rid, raw in out:
        mask, i = [], 0
        while i < len(raw):
            if raw[i : i + 1].islower():
                j = i
                while j < len(raw) and raw[j : j + 1].islower():
                    j += 1
                mask.append((i, j))
                i = j
            else:
                i += 1
        n_iupac = sum(c in b"RYSWKMBDHVryswkmbdhv" for c in raw)
        text = raw.decode().upper().replace("U", "T")
        seq = "".join("N" if ch in "RYSWKMBDHV" else ch for ch in text).encode()
        res.append((rid, seq, mask, n_iupac))
    return res


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 16, 1 << 22])
def test_chunk_boundaries_do_not_matter(tmp_path, monkeypatch, chunk):
    import random

    rng = random.Random(chunk)
    monkeypatch.setattr(fasta_mod, "_CHUNK", chunk)
    for trial in range(20):
        parts = [b"\n" * rng.randint(0, 2)]
        for k in range(rng.randint(1, 4)):
            parts.append(b">r%d some description\r\n" % k if rng.random() < 0.3 else b">r%d\n" % k)
            for _ in range(rng.randint(1, 5)):
                line = bytes(rng.choice(b"ACGTNacgtnRYu") for _ in range(rng.randint(1, 12)))
                parts.append(line + rng.choice([b"\n", b"\r\n", b"\n\n"]))
        data = b"".join(parts)
        if rng.random() < 0.3:
            data = data.rstrip(b"\r\n")  # no final newline
        path = _write(tmp_path / "r.fa", data)
        got = [(r.id, r.seq, r.mask, r.n_iupac) for r in read_fasta(path)]
        assert got == _naive(data), (chunk, data)
        # an invalid byte on a known line is reported on that line, whatever the chunking
        lines = data.split(b"\n")
        seq_lines = [i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith(b">")]
        bad_line = rng.choice(seq_lines)
        lines[bad_line] = lines[bad_line][:1] + b"*" + lines[bad_line][1:]
        path = _write(tmp_path / "bad.fa", b"\n".join(lines))
        e = _err(path)
        assert e.line == bad_line + 1 and "'*'" in e.problem


def test_single_line_sequence_longer_than_a_block(tmp_path, monkeypatch):
    monkeypatch.setattr(fasta_mod, "_CHUNK", 8)
    data = b">a\n" + b"ACGT" * 50 + b"\n>b\n" + b"ac" * 30
    recs = list(read_fasta(_write(tmp_path / "long.fa", data)))
    assert [(r.id, len(r.seq)) for r in recs] == [("a", 200), ("b", 60)]
    assert recs[1].mask == [(0, 60)]


def _flat_files(tmp_path, seqs):
    from Bio import SeqIO
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord

    recs = [SeqRecord(Seq(s), id=rid, name=rid.split(".")[0], description=f"{rid} test contig",
                      annotations={"molecule_type": "DNA"}) for rid, s in seqs]
    out = {}
    for fmt in ("genbank", "embl"):
        out[fmt] = tmp_path / f"g.{fmt}"
        SeqIO.write(recs, out[fmt], fmt)
    return out


def test_genbank_and_embl_flat_files_read_as_their_sequences(tmp_path):
    """Prodigal reads GenBank and EMBL too: the records' sequences, normalised as FASTA's
    (IUPAC -> N, counted), gzip or not; features are not read here (genbank.py reads those)."""
    seqs = [("AB000001.1", "ACGTRYACGT" * 30), ("AB000002.1", "GGGCCCAAAT" * 12)]
    for fmt, path in _flat_files(tmp_path, seqs).items():
        for p in (path, tmp_path / f"{fmt}.gz"):
            if p.suffix == ".gz":
                p.write_bytes(gzip.compress(path.read_bytes()))
            recs = list(read_fasta(p))
            assert [r.id for r in recs] == ["AB000001.1", "AB000002.1"], fmt
            assert recs[0].seq == b"ACGTNNACGT" * 30 and recs[0].n_iupac == 60
            assert recs[1].seq == b"GGGCCCAAAT" * 12
            assert "test contig" in recs[0].description


def test_bad_flat_files_are_one_clear_error(tmp_path):
    gb = _flat_files(tmp_path, [("AB000001.1", "ACGT" * 500)])["genbank"]
    cut = tmp_path / "cut.gb"
    cut.write_bytes(gb.read_bytes()[: len(gb.read_bytes()) // 2])
    with pytest.raises(GenomeFormatError, match="cut short"):
        list(read_fasta(cut))
    contig = tmp_path / "contig.gb"
    contig.write_text("LOCUS       X1                       100 bp    DNA     linear   UNK 01-JAN-1980\n"
                      "DEFINITION  x.\nACCESSION   X1\nVERSION     X1.1\nCONTIG      join(A00001.1:1..100)\n//\n")
    with pytest.raises(GenomeFormatError, match="holds no sequence"):
        list(read_fasta(contig))
    empty = tmp_path / "empty.gb"
    empty.write_text("LOCUS       nothing here\n")
    with pytest.raises(GenomeFormatError):
        list(read_fasta(empty))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
@pytest.mark.parametrize("compressed", [False, True])
def test_a_pipe_is_read_once(tmp_path, compressed):
    """A named pipe (a shell's `<(zcat genome.fa.gz)` is /dev/fd/N) can be opened and read only
    once: its head is peeked, as standard input's (it was read once to sniff the compression and
    again to parse: "first line does not start with '>'", or "empty FASTA file")."""
    import gzip
    import threading

    text = b">a x\nACGTACGTAA\nCCGG\n>b\nTTTT\n"
    fifo = tmp_path / "pipe.fa"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(gzip.compress(text) if compressed else text)

    got: list = []

    def read():  # a second open of the pipe would wait for a writer forever: a thread with a deadline
        got.extend((r.id, r.seq) for r in read_fasta(fifo))

    writer = threading.Thread(target=feed, daemon=True)
    reader = threading.Thread(target=read, daemon=True)
    writer.start()
    reader.start()
    reader.join(timeout=20)
    assert not reader.is_alive(), "read_fasta opened the pipe twice and waits for a writer"
    assert got == [("a", b"ACGTACGTAACCGG"), ("b", b"TTTT")]


@pytest.mark.parametrize("bad, shown", [("é".encode(), "'é'"), (b"\x01", "'\\x01'"), (b"\xff", "(byte 0xff, not UTF-8 text)")])
def test_a_bad_letter_is_shown_as_typed(tmp_path, bad, shown):
    """A non-ASCII letter is named whole ('é'), not by its first byte ('Ã'); a byte that is not
    UTF-8 by its value."""
    (tmp_path / "g.fa").write_bytes(b">s\nACGT" + bad + b"ACGT\n")
    with pytest.raises(GenomeFormatError) as err:
        list(read_fasta(tmp_path / "g.fa"))
    assert f"invalid character {shown} in sequence of 's'" in str(err.value)
