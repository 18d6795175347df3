"""bedGraph tracks: run-length merging against a naive per-base writer, coordinates, header,
atomic output, and the `predict --bedgraph` path through the pipeline callback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from genet5.predict.tracks import TRACKS, BedGraphWriter, bedgraph_rows, iter_bedgraph, track

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "genet5" / "examples" / "phage_NC_016566"


def naive_rows(seqid: str, values, decimals: int = 2) -> str:
    """One row per base, then neighbours with the same text merged: the obvious reference."""
    rows: list[list] = []
    for i, v in enumerate(values):
        text = f"{v:.{decimals}f}"
        if rows and rows[-1][3] == text and rows[-1][2] == i:
            rows[-1][2] = i + 1
        else:
            rows.append([seqid, i, i + 1, text])
    return "".join(f"{s}\t{a}\t{b}\t{t}\n" for s, a, b, t in rows)


@pytest.mark.parametrize("decimals", [1, 2])
def test_run_length_rows_equal_the_naive_writer(decimals):
    rng = np.random.default_rng(1)
    # piecewise-constant stretches plus noise: both long runs and single-base runs occur
    steps = np.repeat(rng.random(300), rng.integers(1, 40, size=300))
    values = np.clip(steps + rng.normal(0, 0.004, size=len(steps)) * (rng.random(len(steps)) < 0.3), 0, 1)
    assert bedgraph_rows("chrA", values, decimals) == naive_rows("chrA", values, decimals)


def test_rows_are_zero_based_half_open_and_tile_the_sequence():
    values = np.array([0.1, 0.1, 0.5, 0.5, 0.5, 0.0, 1.0])
    text = bedgraph_rows("s", values)
    assert text == "s\t0\t2\t0.10\ns\t2\t5\t0.50\ns\t5\t6\t0.00\ns\t6\t7\t1.00\n"
    rows = [line.split("\t") for line in text.splitlines()]
    assert rows[0][1] == "0" and rows[-1][2] == str(len(values))
    assert all(a[2] == b[1] for a, b in zip(rows, rows[1:]))  # contiguous, no overlap
    assert bedgraph_rows("s", values, offset=100).startswith("s\t100\t102\t")
    assert bedgraph_rows("s", np.array([])) == ""


def _random_logp(n: int, seed: int) -> np.ndarray:
    logits = torch.randn(n, 6, generator=torch.Generator().manual_seed(seed)) * 3
    return torch.log_softmax(logits, dim=-1).numpy()


def test_tracks_are_class_sums():
    logp = _random_logp(50, 0)
    p = np.exp(logp.astype(np.float64))
    np.testing.assert_allclose(track(logp, "coding"), p[:, 1:4].sum(1), atol=1e-6)
    np.testing.assert_allclose(track(logp, "intron"), p[:, 4], atol=1e-6)


def test_writer_files_have_header_and_all_sequences(tmp_path):
    logps = {"chr1": _random_logp(1000, 1), "chr2": _random_logp(37, 2)}
    with BedGraphWriter(tmp_path / "t") as writer:
        for seqid, logp in logps.items():
            writer.add(seqid, logp)
    for name in TRACKS:
        path = tmp_path / f"t.{name}.bedgraph"
        first = path.read_text().splitlines()[0]
        assert first.startswith("track type=bedGraph ") and f'name="{name}"' in first and "description=" in first
        rows = list(iter_bedgraph(path))
        for seqid, logp in logps.items():
            mine = [r for r in rows if r[0] == seqid]
            assert mine[0][1] == 0 and mine[-1][2] == len(logp)
            per_base = np.concatenate([np.full(e - s, v) for _, s, e, v in mine])
            np.testing.assert_allclose(per_base, track(logp, name), atol=0.005 + 1e-9)


def test_writer_leaves_nothing_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with BedGraphWriter(tmp_path / "t") as writer:
            writer.add("chr1", _random_logp(10, 3))
            raise RuntimeError("prediction failed half-way")
    assert list(tmp_path.iterdir()) == []


def test_predict_genome_feeds_the_track_callback():
    import dataclasses

    from genet5.models.configs import get_preset
    from genet5.models.genet5 import GeneT5
    from genet5.predict.pipeline import PredictConfig, predict_genome

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = GeneT5(dataclasses.replace(get_preset("genet5-tiny"), enc_layers=1)).eval()
    seen = {}
    predict_genome(model, EXAMPLE / "genome.fa.gz", PredictConfig(), on_track=lambda s, lp: seen.setdefault(s, lp.shape))
    assert seen == {"NC_016566.1": (44077, 6)}


def test_predict_command_writes_bedgraph_files(tmp_path):
    from conftest import invoke
    from genet5.models.configs import get_preset
    from genet5.models.genet5 import GeneT5
    from genet5.models.weights import save_pretrained

    torch.manual_seed(0)
    save_pretrained(GeneT5(get_preset("genet5-tiny")), tmp_path / "model")
    res = invoke(
        "predict", EXAMPLE / "genome.fa.gz", "-o", tmp_path / "p.gff3", "--model", tmp_path / "model",
        "--bedgraph", tmp_path / "phage", "--quiet", "--threads", "1",
    )
    assert res.exit_code == 0, res.output
    for name in ("coding", "intron"):
        rows = list(iter_bedgraph(tmp_path / f"phage.{name}.bedgraph"))
        assert rows[0][1] == 0 and rows[-1][2] == 44077 and {r[0] for r in rows} == {"NC_016566.1"}
