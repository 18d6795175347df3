"""`genet5 plot`: a PNG of the bundled example with annotations and a (tiny, untrained) model's
probabilities, and clear one-line errors for a bad REGION."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import invoke, run_cli
from genet5.predict.plot import Region, RegionError, pack_rows, parse_region

pytest.importorskip("matplotlib")

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "genet5" / "examples" / "phage_NC_016566"
GENOME, ANNOTATION = EXAMPLE / "genome.fa.gz", EXAMPLE / "annotation.gff3.gz"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LENGTHS = {"chr1": 50_000, "HLA-A*01:01": 3_000}


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from genet5.models.configs import get_preset
    from genet5.models.genet5 import GeneT5
    from genet5.models.weights import save_pretrained

    torch.set_num_threads(1)  # the test machine is shared with training runs
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("model")
    save_pretrained(GeneT5(get_preset("genet5-tiny")), d)
    return d


def test_parse_region_accepts_the_usual_spellings():
    assert parse_region("chr1:10000-20000", LENGTHS) == Region("chr1", 10000, 20000)
    assert parse_region(" chr1:10,000-20,000 ", LENGTHS) == Region("chr1", 10000, 20000)
    assert parse_region("chr1:7-7", LENGTHS).length == 1
    assert parse_region("chr1", LENGTHS) == Region("chr1", 1, 50_000)
    assert parse_region("HLA-A*01:01", LENGTHS) == Region("HLA-A*01:01", 1, 3000)  # ':' inside a name
    assert parse_region("HLA-A*01:01:5-10", LENGTHS) == Region("HLA-A*01:01", 5, 10)


@pytest.mark.parametrize("text, words", [
    ("chr1:10000", "expected SEQID:START-END"),
    ("chr1:a-b", "expected SEQID:START-END"),
    (":1-10", "expected SEQID:START-END"),
    ("chr1:-5-10", "expected SEQID:START-END"),
    ("chr2:1-10", "unknown sequence 'chr2'"),
    ("chr2", "unknown sequence 'chr2'"),
    ("chr1:0-10", "START must be >= 1"),
    ("chr1:20-10", "END >= START"),
    ("chr1:49000-50001", "runs past the end of chr1 (length 50,000)"),
])
def test_parse_region_rejects_bad_regions(text, words):
    with pytest.raises(RegionError, match=None) as err:
        parse_region(text, LENGTHS)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_parse_region_refuses_huge_regions():
    with pytest.raises(RegionError, match="at most 1,000 bp"):
        parse_region("chr1:1-2000", LENGTHS, max_length=1000)


def test_pack_rows_puts_overlaps_on_new_rows():
    assert pack_rows([(1, 10), (5, 20), (11, 30), (25, 40)]) == [0, 1, 0, 1]
    assert pack_rows([(1, 10), (12, 20)], gap=5) == [0, 1]
    assert pack_rows([(1, 100)] * 5, max_rows=3) == [0, 1, 2, 2, 2]


def test_plot_with_annotations_and_model_writes_a_png(tiny_model_dir, tmp_path):
    out = tmp_path / "region.png"
    res = invoke("plot", "NC_016566.1:10000-20000", "--genome", str(GENOME), "--reference", str(ANNOTATION),
                 "--prediction", str(ANNOTATION), "--model", str(tiny_model_dir), "--frames", "-o", str(out))
    assert res.exit_code == 0, res.output
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    import matplotlib.image

    height, width = matplotlib.image.imread(out).shape[:2]
    assert width == 1800 and height > 600  # 12 in at 150 dpi; four panels
    assert [p.name for p in tmp_path.iterdir()] == ["region.png"]  # no temporary left behind


def test_plot_without_model_draws_the_annotation(tmp_path):
    out = tmp_path / "whole.png"
    res = invoke("plot", "NC_016566.1", "--genome", str(GENOME), "-r", str(ANNOTATION), "--no-model", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_plot_bad_inputs_fail_cleanly_in_process(tmp_path):
    out = tmp_path / "x.png"
    for region in ("NC_016566.1:1-44078", "chrZ:1-10", "NC_016566.1:5"):
        res = invoke("plot", region, "--genome", str(GENOME), "-r", str(ANNOTATION), "-o", str(out))
        assert res.exit_code == 2, (region, res.output)
    res = invoke("plot", "NC_016566.1:1-100", "--genome", str(GENOME), "--no-model", "-o", str(out))
    assert res.exit_code == 2  # nothing to draw
    res = invoke("plot", "NC_016566.1:1-100", "--genome", str(GENOME), "-r", str(ANNOTATION), "-o", str(tmp_path / "x.bmpx"))
    assert res.exit_code == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("region, words", [
    ("NC_016566.1:40000-50000", "runs past the end of NC_016566.1 (length 44,077)"),
    ("NC_016566.1:10000", "expected SEQID:START-END"),
])
def test_bad_region_is_one_line_exit_2_through_the_real_cli(region, words, tmp_path):
    out = tmp_path / "x.png"
    proc = run_cli("plot", region, "--genome", GENOME, "-r", ANNOTATION, "-o", out, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genet5: error: ") and words in lines[0], proc.stderr
    assert not out.exists()
