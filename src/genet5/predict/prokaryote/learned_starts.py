"""The learned start classifier's evidence (models/prok_starts.py) for the prokaryote decoder.

For every candidate of a Strand: the classifier's logit minus the best logit among the start
codons of the same ORF. The best start of each ORF reads 0, the others how much less likely the
classifier finds them: the term ranks the starts of an ORF and leaves the choice between a gene
and no gene to the coding statistics. 5'-partial candidates (no start codon) read 0.

The same inputs (windows, place features) feed training (scripts/train_start_model.py), so
what the model learned and what the decoder asks of it cannot drift apart.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from genet5.predict.prokaryote.orfs import Strand, base_codes

BUNDLED_START_MODEL = "prokaryote-starts"
_CHUNK = 4096  # candidates scored at once (their (chunk, hidden) sums stay in cache)
_GROUP = 3  # window positions looked up together (StartScorer.logits)


@dataclass
class StartScorer:
    """The trained StartNet's forward pass in numpy (inference only): three linear layers over
    the genome-relative one-hot window and the place features. numpy, not torch, so that
    `genet5 predict --domain prokaryote` never imports torch (~1 s of a 1-2 s run on a phage)."""

    up: int
    down: int
    n_place: int
    layers: list[tuple[np.ndarray, np.ndarray]]  # (weight (out, in), bias (out,)) float32, ReLU between

    @classmethod
    def from_state(cls, config: dict, state: dict[str, np.ndarray]) -> "StartScorer":
        idx = sorted(int(k.split(".")[1]) for k in state if k.startswith("mlp.") and k.endswith(".weight"))
        layers = [(np.asarray(state[f"mlp.{i}.weight"], np.float32), np.asarray(state[f"mlp.{i}.bias"], np.float32))
                  for i in idx]
        return cls(int(config["up"]), int(config["down"]), int(config["n_place"]), layers)

    @classmethod
    def from_module(cls, net) -> "StartScorer":
        """From a torch StartNet (models/prok_starts.py), e.g. one being trained."""
        cfg = net.config
        state = {k: v.detach().cpu().float().numpy() for k, v in net.state_dict().items()}
        return cls.from_state({"up": cfg.up, "down": cfg.down, "n_place": cfg.n_place}, state)

    def logits(self, wins: np.ndarray, freq: np.ndarray, place: np.ndarray) -> np.ndarray:
        """(k,) logits of k windows (k, up + down) int8 codes, the genome's (4,) base
        frequencies and (k, >= n_place) place features.
        The first layer reads a genome-relative one-hot window (a base's column minus the
        genome's frequencies; N reads 0), so its product is a sum over window positions of one
        of five precomputed columns each; three neighbouring positions are looked up together
        (one of 5^3 precomputed sums), a third of the memory traffic of one lookup per position:
        Vibrio's 182,636 candidates 0.58 -> 0.22 s (Intel Xeon, 2026-12-05; the one-hot matmul
        was 3.4x slower than single lookups), equal to the matmul up to float rounding (2e-6)."""
        out = np.zeros(len(wins), dtype=np.float32)
        first, bias = self.layers[0]
        width = self.up + self.down
        groups = -(-width // _GROUP)
        pad = groups * _GROUP - width  # positions added at the end, read as N (adding 0)
        table = self._table(np.asarray(freq, dtype=np.float32))
        place_weight = first[:, width * 4 :].T
        digit = 5 ** np.arange(_GROUP - 1, -1, -1)
        for lo in range(0, len(wins), _CHUNK):
            w = wins[lo : lo + _CHUNK].astype(np.intp)
            if pad:
                w = np.pad(w, ((0, 0), (0, pad)), constant_values=4)
            key = (w.reshape(len(w), groups, _GROUP) * digit).sum(axis=2) + np.arange(groups) * 5 ** _GROUP
            h = place[lo : lo + _CHUNK, : self.n_place].astype(np.float32) @ place_weight + bias
            for t in range(groups):
                h += table[key[:, t]]
            for weight, b in self.layers[1:]:
                np.maximum(h, 0.0, out=h)
                h = h @ weight.T + b
            out[lo : lo + len(w)] = h[:, 0]
        return out

    def _table(self, freq: np.ndarray) -> np.ndarray:
        """(groups * 5^G, hidden) the first layer's sums for every G codes at every group of
        window positions, for these genome frequencies. Kept for the last frequencies asked:
        a draft's hundreds of strands share them, and building it was most of a short strand's
        scoring (0.8 ms of 1.1 ms a strand)."""
        key = freq.tobytes()
        memo = getattr(self, "_table_memo", None)
        if memo is not None and memo[0] == key:
            return memo[1]
        relative = np.vstack([np.eye(4, dtype=np.float32) - freq, np.zeros((1, 4), np.float32)])  # (5 codes, 4)
        first = self.layers[0][0]
        width = self.up + self.down
        per_base = first[:, : width * 4].reshape(len(first), width, 4)  # (hidden, position, base)
        lookup = np.einsum("hjc,bc->jbh", per_base, relative).astype(np.float32)  # (position, code, hidden)
        groups = -(-width // _GROUP)
        pad = groups * _GROUP - width
        lookup = np.concatenate([lookup, np.zeros((pad,) + lookup.shape[1:], np.float32)])
        combos = np.indices((5,) * _GROUP).reshape(_GROUP, -1).T  # (5**G, G): the codes of each sum
        table = np.zeros((groups, 5 ** _GROUP, lookup.shape[2]), np.float32)
        for t in range(groups):
            for g in range(_GROUP):
                table[t] += lookup[t * _GROUP + g][combos[:, g]]
        table = table.reshape(groups * 5 ** _GROUP, -1)
        self._table_memo = (key, table)  # one assignment: threads see the old pair or the new
        return table


@functools.lru_cache(maxsize=4)
def load_start_net(name_or_dir: str = BUNDLED_START_MODEL) -> StartScorer:
    """The classifier as a numpy scorer, read from its directory (config.json +
    model.safetensors) or the bundled one of that name, without torch (cached: a run decodes
    many genomes or sequences with one model)."""
    from safetensors.numpy import load_file

    from genet5.errors import UserError
    from genet5.model_paths import resolve_model_path

    path = resolve_model_path(name_or_dir)
    try:
        config = json.loads((path / "config.json").read_text())
        state = load_file(str(path / "model.safetensors"))
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: cannot read the prokaryote start classifier ({err})") from None
    if config.get("model_type") != "prokaryote-starts":
        raise UserError(f"{path}: holds a {config.get('model_type')!r} model, not the prokaryote start classifier")
    return StartScorer.from_state(config, state)


def base_counts(seq: bytes) -> np.ndarray:
    """(4,) counts of A, C, G, T in `seq`."""
    return np.bincount(base_codes(seq), minlength=5)[:4].astype(np.float64)


def genome_freq(counts: np.ndarray) -> np.ndarray:
    """(4,) A, C, G, T frequencies read on both strands (A = T, C = G: candidates lie on both),
    from the forward strand's counts; uniform when there are none."""
    both = counts + counts[::-1]  # the reverse strand's A count is the forward T count
    return (both / both.sum() if both.sum() else np.full(4, 0.25)).astype(np.float32)


def windows(cand: Strand, up: int, down: int) -> np.ndarray:
    """(k, up + down) int8 base codes around each candidate start (4 off the sequence)."""
    codes = base_codes(cand.seq)
    offs = cand.a[:, None] + np.arange(-up, down)[None, :]
    inside = (offs >= 0) & (offs < len(codes))
    return np.where(inside, codes[np.clip(offs, 0, max(len(codes) - 1, 0))], 4).astype(np.int8)


def place_features(cand: Strand) -> np.ndarray:
    """(k, 6) float32, where each candidate sits in its ORF: log1p of the start codons upstream
    of it, of the codons to the next start upstream and downstream and to the ORF's first start;
    log of its length in codons; whether it is the ORF's first start. Candidates of one ORF are
    contiguous and sorted by position (orfs.oriented_candidates)."""
    a, orf, edge = cand.a, cand.orf, cand.edge
    k = len(a)
    out = np.zeros((k, 6), dtype=np.float32)
    if k == 0:
        return out
    real = ~edge
    # rank of each real start within its ORF and the ORF's first real start
    idx = np.flatnonzero(real)
    if len(idx) == 0:  # only 5'-partial candidates (a short contig): nothing to place
        return out
    o = orf[idx]
    new = np.concatenate([[True], o[1:] != o[:-1]])
    group_first = np.maximum.accumulate(np.where(new, np.arange(len(idx)), 0))
    rank = np.arange(len(idx)) - group_first
    new_last = np.concatenate([o[1:] != o[:-1], [True]])
    prev_gap = np.where(new, 0, np.diff(a[idx], prepend=a[idx][0]) // 3)
    next_gap = np.where(new_last, 0, np.diff(a[idx], append=a[idx][-1]) // 3)
    first_gap = (a[idx] - a[idx][group_first]) // 3
    length = (cand.e[idx] - a[idx] + 1) / 3.0
    out[idx, 0] = np.log1p(rank)
    out[idx, 1] = np.log1p(prev_gap) / 5.0
    out[idx, 2] = np.log1p(next_gap) / 5.0
    out[idx, 3] = np.log1p(first_gap) / 5.0
    out[idx, 4] = np.log(length) / 7.0
    out[idx, 5] = new
    return out


def orf_relative(score: np.ndarray, orf: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """score minus the best real start's score of the same ORF; 0 at 5'-partial candidates."""
    out = np.zeros(len(score), dtype=np.float64)
    real = ~edge
    if not real.any():
        return out
    _, inv = np.unique(orf[real], return_inverse=True)
    best = np.full(inv.max() + 1, -np.inf)
    np.maximum.at(best, inv, score[real])
    out[real] = score[real] - best[inv]
    return out


def start_scores(model, cand: Strand, freq: np.ndarray) -> np.ndarray:
    """(k,) the decoder's term: logit minus the best logit of the ORF (0 at partial starts);
    `model`: a StartScorer, or a torch StartNet (scored through its weights)."""
    if len(cand.a) == 0:
        return np.zeros(0)
    scorer = model if isinstance(model, StartScorer) else StartScorer.from_module(model)
    raw = scorer.logits(windows(cand, scorer.up, scorer.down), freq, place_features(cand))
    return orf_relative(raw, cand.orf, cand.edge)
