"""Prodigal's simple coordinate output (genome/sco_writer.py): its lines, numbering and refusals,
and, where prodigal is installed, the same shape as `prodigal -f sco` writes."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from genet5.errors import UserError
from genet5.genome.models import Annotation, Gene, Segment, Transcript
from genet5.genome.sco_writer import ScoError, write_sco_handle
from genet5.predict.prokaryote.orfs import gc_share

GENE_LINE = re.compile(r">(\d+)_(\d+)_(\d+)_([+-])")  # how Prokka reads an SCO gene line


def annotation(*genes) -> Annotation:
    ann = Annotation()
    for i, (seqid, strand, segments, partial) in enumerate(genes, 1):
        g = Gene(f"g{i}", seqid, strand)
        g.transcripts.append(Transcript(f"g{i}.t1", f"g{i}", seqid, strand, cds=[Segment(a, b, strand) for a, b in segments],
                                        start_partial=partial))
        ann.add_gene(g)
    return ann


def test_genes_left_to_right_numbered_per_sequence_without_partial_marks():
    ann = annotation(("b", "+", [(10, 99)], False), ("a", "-", [(500, 700)], False), ("a", "+", [(1, 300)], True),
                     ("a", "+", [(320, 412)], False))
    out = io.StringIO()
    n = write_sco_handle(out, ann, {"a": 1000, "b": 200, "c": 50}, {"a": "a the first"}, {"a": 0.5}, code=4,
                         run_type="Single", version="9.9")
    assert n == 4
    assert out.getvalue().splitlines() == [
        '# Sequence Data: seqnum=1;seqlen=1000;seqhdr="a the first"',
        '# Model Data: version=genet5.v9.9;run_type=Single;model="genet5 self-trained";gc_cont=50.00;transl_table=4',
        ">1_1_300_+", ">2_320_412_+", ">3_500_700_-",
        '# Sequence Data: seqnum=2;seqlen=200;seqhdr="b"',  # no header given: its ID; no G+C given: left out
        '# Model Data: version=genet5.v9.9;run_type=Single;model="genet5 self-trained";transl_table=4',
        ">1_10_99_+",
        '# Sequence Data: seqnum=3;seqlen=50;seqhdr="c"',  # a sequence without genes keeps its two lines
        '# Model Data: version=genet5.v9.9;run_type=Single;model="genet5 self-trained";transl_table=4',
    ]
    assert all(GENE_LINE.fullmatch(ln) for ln in out.getvalue().splitlines() if not ln.startswith("#"))


def test_a_gene_with_introns_is_refused_as_a_user_error():
    ann = annotation(("a", "+", [(1, 100), (200, 290)], False))
    with pytest.raises(ScoError, match="2 CDS segments") as err:
        write_sco_handle(io.StringIO(), ann, {"a": 1000})
    assert isinstance(err.value, UserError)  # the command prints it as one line


def test_meta_mode_names_each_sequences_parameter_set():
    out = io.StringIO()
    write_sco_handle(out, Annotation(), {"a": 10, "b": 20}, run_type="Metagenomic", models={"a": "gc0.38_code11"})
    lines = out.getvalue().splitlines()
    assert 'run_type=Metagenomic;model="gc0.38_code11"' in lines[1] and 'model="genet5 self-trained"' in lines[3]


@pytest.mark.skipif(shutil.which("prodigal") is None, reason="prodigal (Debian package) not installed: `make tools`")
def test_the_shape_prodigal_writes(tmp_path):
    """The comment lines carry Prodigal's keys in its order and every gene line reads as its own;
    in single mode gc_cont is the sequence's G+C, as Prodigal's (its meta mode gives its model's,
    ours the sequence's still)."""
    fa = tmp_path / "s.fa"
    seq = ("ATGAAACGCATTAGCACCACCATTACCACCACCATCACCATTACCACAGGTAACGGTGCGGGCTGA" * 400)
    fa.write_text(f">s1 a description\n{seq}\n")
    theirs = subprocess.run(["prodigal", "-i", str(fa), "-f", "sco", "-q"], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    ours = io.StringIO()
    write_sco_handle(ours, annotation(("s1", "+", [(1, 66)], False)), {"s1": len(seq)}, {"s1": "s1 a description"},
                     {"s1": gc_share(seq.encode())}, run_type="Single")
    ours = ours.getvalue().splitlines()

    def keys(line: str) -> list[str]:
        return [kv.split("=", 1)[0] for kv in line.split(": ", 1)[1].split(";")]

    assert ours[0] == theirs[0]  # seqnum, seqlen, seqhdr: the same text
    assert keys(ours[1]) == [k for k in keys(theirs[1]) if k != "uses_sd"]
    assert ours[1].split("run_type=")[1].split(";")[0] == theirs[1].split("run_type=")[1].split(";")[0]
    assert ours[1].split("gc_cont=")[1].split(";")[0] == theirs[1].split("gc_cont=")[1].split(";")[0]
    assert all(GENE_LINE.fullmatch(ln) for ln in theirs[2:])
