"""Constrained greedy decoding for GeneT5.

``decode_greedy`` runs the decoder one step at a time (KV cache; cross-attention keys/values
and pointer keys computed once per window). At each step a *constraint* may forbid token types
and pointer positions; the greedy choice is made among what is left, so a constraint that only
admits valid genes guarantees valid output whatever the weights.

The constraint protocol (duck-typed) has four methods::

    begin(batch_size, lengths)            # lengths: valid bases per window
    allowed_types(b) -> bool[V]           # token types allowed next for sequence b
    allowed_pointers(b, tok) -> bool[L]   # positions allowed for pointer token `tok`
    advance(b, tok, ptr)                  # record the choice (ptr = -100 when none)

``GeneConstraint`` is the reference implementation over the token grammar of
tokenizers/annotation.py:

- grammar: gene token, then segments left/right in genomic order, CUT_LEFT/CUT_RIGHT only
  where the grammar allows them; a gene token is offered only if its first boundary has a
  legal position (no dead ends);
- order: boundaries inside a gene increase, introns are at least ``min_intron`` bases, genes
  come sorted by strictly increasing first boundary, and at most one gene per strand may be
  cut at the left edge (so no gene can be emitted twice);
- DNA signals (when the window's DNA is given): start codon at CDS_START, stop codon at
  CDS_END, donor/acceptor dinucleotides (GT / AG by default; ``donors=None`` lifts it);
- frame (genes whose left end is in the window): codons are counted from the gene's left end
  (the start codon on +, the stop codon on -); an in-frame stop inside a segment is forbidden,
  a plus-strand CDS_END must close the first in-frame stop, and the final boundary must make
  the CDS length a multiple of 3. Stop codons split across a splice junction are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.nn.attention import make_kv_caches
from genet5.tokenizers.annotation import (
    IGNORE,
    NUM_TOKEN_TYPES,
    POINTER_TOKENS,
    ROLES,
    GeneStructure,
    Tok,
    decode_genes,
)

# -- DNA signals ------------------------------------------------------------------------------


def _match_at(dna: bytes, words: Sequence[bytes], offset: int) -> np.ndarray:
    """bool (L,): True at p where dna[p+offset : p+offset+len(w)] equals one of ``words``."""
    L = len(dna)
    out = np.zeros(L, dtype=bool)
    arr = np.frombuffer(dna, dtype=np.uint8)
    for w in words:
        k = len(w)
        starts = np.arange(L - k + 1)
        if len(starts) <= 0:
            continue
        hit = np.ones(len(starts), dtype=bool)
        for j, c in enumerate(w):
            hit &= arr[starts + j] == c
        p = starts[hit] - offset
        p = p[(p >= 0) & (p < L)]
        out[p] = True
    return out


@dataclass
class _Signals:
    """Per-window position masks, one per (strand, boundary token), plus stop-codon starts."""

    ok: dict[tuple[str, Tok], np.ndarray]
    stop_at: dict[str, np.ndarray]  # strand -> bool (L,), a stop codon begins at q (on that strand)
    next_stop: dict[str, np.ndarray] = field(default_factory=dict)  # see _next_in_frame
    cum: dict[tuple[str, Tok], np.ndarray] = field(default_factory=dict)  # (L+1,) prefix counts
    cum3: dict[tuple[str, Tok], np.ndarray] = field(default_factory=dict)  # (3, L+1) by p % 3

    def __post_init__(self) -> None:
        for strand, stop in self.stop_at.items():
            self.next_stop[strand] = _next_in_frame(stop)
        for key, ok in self.ok.items():
            self.cum[key] = np.concatenate([[0], np.cumsum(ok)])
            by_res = np.zeros((3, len(ok) + 1), dtype=np.int64)
            for r in range(3):
                by_res[r, 1:] = np.cumsum(ok & (np.arange(len(ok)) % 3 == r))
            self.cum3[key] = by_res


_NONE = np.iinfo(np.int64).max // 2


def _next_in_frame(hit: np.ndarray) -> np.ndarray:
    """(L,): smallest q >= i with q = i (mod 3) and hit[q]; _NONE where there is none."""
    out = np.full(len(hit), _NONE, dtype=np.int64)
    for r in range(3):
        idx = np.arange(r, len(hit), 3)
        vals = np.where(hit[idx], idx, _NONE)
        out[idx] = np.minimum.accumulate(vals[::-1])[::-1]
    return out


def window_signals(
    dna: bytes,
    starts: Sequence[bytes],
    stops: Sequence[bytes],
    donors: Sequence[bytes] | None,
    acceptors: Sequence[bytes] | None,
) -> _Signals:
    """Which positions may carry each boundary token. Pointers name CDS bases (annotation.py):
    a donor pointer is the last exon base (intron dinucleotide right after it on +), etc."""
    dna = dna.upper()
    rc = [reverse_complement(w) for w in stops]
    rc_starts = [reverse_complement(w) for w in starts]
    anything = np.ones(len(dna), dtype=bool)
    ok = {
        ("+", Tok.CDS_START): _match_at(dna, starts, 0),
        ("+", Tok.CDS_END): _match_at(dna, stops, -2),
        ("-", Tok.CDS_END): _match_at(dna, rc, 0),
        ("-", Tok.CDS_START): _match_at(dna, rc_starts, -2),
    }
    if donors is None:
        for k in (("+", Tok.DONOR), ("-", Tok.DONOR)):
            ok[k] = anything
    else:
        ok[("+", Tok.DONOR)] = _match_at(dna, donors, 1)
        ok[("-", Tok.DONOR)] = _match_at(dna, [reverse_complement(d) for d in donors], -2)
    if acceptors is None:
        for k in (("+", Tok.ACCEPTOR), ("-", Tok.ACCEPTOR)):
            ok[k] = anything
    else:
        ok[("+", Tok.ACCEPTOR)] = _match_at(dna, acceptors, -2)
        ok[("-", Tok.ACCEPTOR)] = _match_at(dna, [reverse_complement(a) for a in acceptors], 1)
    return _Signals(ok=ok, stop_at={"+": _match_at(dna, stops, 0), "-": _match_at(dna, rc, 0)})


# -- the reference constraint -------------------------------------------------------------------


@dataclass
class _State:
    expect: str = "gene"  # gene | first | after_cut | right | left_inner | done
    strand: str | None = None
    seg_left: int = 0  # left boundary of the open segment
    last_right: int = -1  # right boundary of the previous segment of this gene
    n_segments: int = 0
    cds_len: int = 0  # CDS bases in closed segments (for the frame)
    framed: bool = False  # gene's left end is in the window: frame is known
    prev_gene_start: int | None = None
    cut_left_strands: set = field(default_factory=set)  # strands that already used CUT_LEFT
    history: list[tuple[int, int]] = field(default_factory=list)


class GeneConstraint:
    """Grammar + order + DNA-signal + frame constraints (see module docstring).

    dna: one sequence per window (str or bytes, window coordinates = string index) or None for
    grammar and order only. Splice signals default to canonical GT-AG; pass ``donors=None`` /
    ``acceptors=None`` to allow any, or e.g. ``donors=("GT", "GC")``.
    """

    def __init__(
        self,
        dna: Sequence[str | bytes] | None = None,
        *,
        genetic_code_id: int = 1,
        start_codons: Sequence[str] | None = ("ATG",),
        donors: Sequence[str] | None = ("GT",),
        acceptors: Sequence[str] | None = ("AG",),
        min_intron: int = 20,
        check_frame: bool = True,
    ):
        code = genetic_code(genetic_code_id)
        starts = [s.encode() for s in start_codons] if start_codons else sorted(code.starts)
        enc = lambda ws: None if ws is None else [w.encode() if isinstance(w, str) else w for w in ws]  # noqa: E731
        self.dna = None if dna is None else [d.encode() if isinstance(d, str) else bytes(d) for d in dna]
        self.signals = (
            None if self.dna is None
            else [window_signals(d, starts, sorted(code.stops), enc(donors), enc(acceptors)) for d in self.dna]
        )
        self._arrays = [] if self.dna is None else [np.frombuffer(d.upper(), dtype=np.uint8) for d in self.dna]
        stop_words = sorted(code.stops)
        self._stop_words = {"+": stop_words, "-": [reverse_complement(w) for w in stop_words]}
        self.min_intron = min_intron
        self.check_frame = check_frame and self.dna is not None
        self.states: list[_State] = []
        self.lengths: list[int] = []

    # -- protocol ----------------------------------------------------------------------------
    def begin(self, batch_size: int, lengths: Sequence[int]) -> None:
        if self.dna is not None:
            if len(self.dna) != batch_size:
                raise ValueError(f"{len(self.dna)} DNA windows for a batch of {batch_size}")
            for d, n in zip(self.dna, lengths):
                if len(d) != n:
                    raise ValueError(f"DNA window of {len(d)} bases for {n} encoder positions")
        self.states = [_State() for _ in range(batch_size)]
        self.lengths = [int(n) for n in lengths]

    def allowed_types(self, b: int) -> np.ndarray:
        s, ok = self.states[b], np.zeros(NUM_TOKEN_TYPES, dtype=bool)
        if s.expect == "gene":
            ok[Tok.EOS] = True
            for strand, tok in (("+", Tok.GENE_PLUS), ("-", Tok.GENE_MINUS)):
                trial = _State(expect="first", strand=strand, prev_gene_start=s.prev_gene_start,
                               cut_left_strands=s.cut_left_strands)
                ok[tok] = self._cut_left_ok(trial) or self._ptr_mask(b, trial, ROLES[strand].left_first).any()
            return ok
        if s.expect == "done":
            ok[Tok.EOS] = True
            return ok
        r = ROLES[s.strand]
        if s.expect == "first":
            ok[r.left_first] = self._ptr_mask(b, s, r.left_first).any()
            ok[Tok.CUT_LEFT] = self._cut_left_ok(s)
        if s.expect in ("after_cut", "left_inner"):
            ok[r.left_inner] = self._ptr_mask(b, s, r.left_inner).any()
            ok[Tok.CUT_RIGHT] = True  # an intron open at the right edge
        if s.expect in ("after_cut", "right"):
            ok[r.right_inner] = self._ptr_mask(b, s, r.right_inner).any()
            ok[r.right_last] = self._ptr_mask(b, s, r.right_last).any()
            ok[Tok.CUT_RIGHT] = self._exon_may_reach_edge(b, s)
        return ok

    def allowed_pointers(self, b: int, tok: int) -> np.ndarray:
        return self._ptr_mask(b, self.states[b], Tok(tok))

    def advance(self, b: int, tok: int, ptr: int) -> None:
        s, tok = self.states[b], Tok(int(tok))
        s.history.append((int(tok), int(ptr)))
        if tok == Tok.EOS:
            s.expect = "done"
            return
        if tok in (Tok.GENE_PLUS, Tok.GENE_MINUS):
            s.strand = "+" if tok == Tok.GENE_PLUS else "-"
            s.expect, s.n_segments, s.cds_len, s.last_right, s.framed = "first", 0, 0, -1, False
            return
        r = ROLES[s.strand]
        if tok == Tok.CUT_LEFT:
            s.expect, s.seg_left, s.prev_gene_start = "after_cut", 0, 0
            s.cut_left_strands.add(s.strand)
        elif tok == Tok.CUT_RIGHT:
            s.expect, s.strand = "gene", None
        elif tok == r.left_first and s.expect == "first":
            s.expect, s.seg_left, s.framed, s.prev_gene_start = "right", ptr, True, ptr
        elif tok == r.left_inner:
            s.expect, s.seg_left = "right", ptr
        elif tok in (r.right_inner, r.right_last):
            s.cds_len += ptr - s.seg_left + 1
            s.n_segments += 1
            s.last_right = ptr
            s.expect = "left_inner"
            if tok == r.right_last:
                s.expect, s.strand = "gene", None
        else:
            raise ValueError(f"token {tok.name} is not allowed in state {s.expect}")

    # -- helpers -------------------------------------------------------------------------------
    def _cut_left_ok(self, s: _State) -> bool:
        # cut genes sort first (they start at the edge), and one per strand: a second would
        # be a copy of the first as far as the window can tell
        return s.prev_gene_start in (None, 0) and s.strand not in s.cut_left_strands

    def _first_inframe_stop(self, b: int, s: _State) -> int | None:
        """Start of the first in-frame stop codon fully inside [search, L) of the open segment."""
        if not (self.check_frame and s.framed):
            return None
        q = int(self._inframe_stop_for(b, s.strand, np.array([s.seg_left]), s.cds_len, s.n_segments)[0])
        return None if q >= _NONE else q

    def _inframe_stop_for(self, b: int, strand: str, left_P: np.ndarray, cds_len: int, n_segments: int) -> np.ndarray:
        """First in-frame stop start for segments beginning at each of ``left_P`` (vectorized).

        Codon starts are the q with q - left + cds_len = 0 (mod 3); the first segment skips the
        gene's own first codon (start codon on +, the stop itself on -)."""
        L = self.lengths[b]
        search_P = left_P + (3 if n_segments == 0 else 0)
        start_P = search_P + (left_P - cds_len - search_P) % 3
        nxt = self.signals[b].next_stop[strand]
        return np.where(start_P < L, nxt[np.minimum(start_P, L - 1)], _NONE)

    def _right_side_feasible(self, b: int, s: _State, left_P: np.ndarray, cds_len: int, n_segments: int) -> np.ndarray:
        """One-step lookahead for a minus-strand framed segment opened at each of ``left_P``:
        some right boundary (ACCEPTOR, or a CDS_START closing whole codons) or CUT_RIGHT must
        be possible before the first in-frame stop; otherwise the segment is a dead end. (On
        the plus strand the first in-frame stop itself is always a legal CDS_END.)"""
        sig = self.signals[b]
        q_P = self._inframe_stop_for(b, s.strand, left_P, cds_len, n_segments)
        free = q_P >= _NONE  # no stop ahead: the exon may run off the right edge
        hi_P = np.where(free, left_P, q_P + 2)  # rights allowed in [left, q + 1]
        acc = sig.cum[("-", Tok.ACCEPTOR)]
        has_acc = acc[hi_P] - acc[left_P] > 0
        lo_P = left_P + (5 if n_segments == 0 else 0)  # the CDS is at least start + stop
        res_P = (left_P - cds_len - 1) % 3  # r - left + 1 + cds_len = 0 (mod 3)
        c3 = sig.cum3[("-", Tok.CDS_START)]
        has_start = c3[res_P, hi_P] - c3[res_P, np.minimum(lo_P, hi_P)] > 0
        return free | has_acc | has_start

    def _junction_stop(self, b: int, s: _State) -> np.ndarray:
        """bool (L,): True at p where the codon split by the intron (the last cds_len % 3 bases
        of the previous segment + the first bases from p) would be an in-frame stop."""
        k = s.cds_len % 3
        bad = np.zeros(self.lengths[b], dtype=bool)
        if k == 0:
            return bad
        tail = self.dna[b][s.last_right - k + 1 : s.last_right + 1].upper()
        arr = self._arrays[b]
        for w in self._stop_words[s.strand]:
            if w[:k] == tail:
                hit = np.ones(len(arr) - (2 - k), dtype=bool)
                for j, c in enumerate(w[k:]):
                    hit &= arr[j : len(arr) - (2 - k) + j] == c
                bad[: len(hit)] |= hit
        return bad

    def _exon_may_reach_edge(self, b: int, s: _State) -> bool:
        return self._first_inframe_stop(b, s) is None

    def _ptr_mask(self, b: int, s: _State, tok: Tok) -> np.ndarray:
        L = self.lengths[b]
        mask = np.zeros(L, dtype=bool)
        r = ROLES[s.strand]
        pos = np.arange(L)
        if tok == r.left_first and s.expect == "first":
            # strictly after the previous gene's start: genes are sorted and never repeated
            lo = 0 if s.prev_gene_start is None else s.prev_gene_start + 1
        elif tok == r.left_inner and s.expect in ("left_inner", "after_cut"):
            lo = s.last_right + 1 + self.min_intron if s.expect == "left_inner" else 1
        elif tok in (r.right_inner, r.right_last) and s.expect in ("right", "after_cut"):
            lo = s.seg_left
        else:
            return mask
        mask[lo:] = True
        if self.signals is not None:
            mask &= self.signals[b].ok[(s.strand, tok)][:L]
        if tok == r.left_inner and s.expect == "left_inner" and self.check_frame and s.framed:
            mask &= ~self._junction_stop(b, s)
        if s.strand == "-" and self.check_frame and mask.any() and (
            (tok == r.left_first and s.expect == "first")
            or (tok == r.left_inner and s.expect == "left_inner" and s.framed)
        ):
            cand = np.flatnonzero(mask)
            first = tok == r.left_first
            feasible = self._right_side_feasible(b, s, cand, 0 if first else s.cds_len, 0 if first else s.n_segments)
            mask[cand[~feasible]] = False
        if tok in (r.right_inner, r.right_last) and self.check_frame and s.framed:
            q = self._first_inframe_stop(b, s)
            seg_len = pos - s.seg_left + 1
            if tok == r.right_last and s.strand == "+":
                mask &= pos == (q + 2 if q is not None else -1)  # the first in-frame stop
            else:
                if q is not None:
                    mask &= pos < q + 2  # no complete in-frame stop inside the segment
                if tok == r.right_last:  # minus: ends on the start codon, whole codons only
                    mask &= (s.cds_len + seg_len) % 3 == 0
            if tok == r.right_last and s.n_segments == 0:
                mask &= seg_len >= 6  # start and stop codons do not overlap
        return mask


# -- greedy decoding ----------------------------------------------------------------------------


@torch.no_grad()
def decode_greedy(
    model,
    enc_input_ids_BS: torch.Tensor,
    enc_padding_mask_BS: torch.Tensor | None = None,
    *,
    constraint=None,
    max_steps: int = 256,
    base_ids_BL: torch.Tensor | None = None,
    base_to_token_BL: torch.Tensor | None = None,
    use_cache: bool = True,
    first_pointer_margin: float | None = None,
    token_logp: list | None = None,
) -> list[tuple[list[int], list[int]]]:
    """Greedy (types, pointers) per window, BOS excluded, EOS included when reached.

    With ``use_cache=False`` the whole prefix is re-run each step (the reference the cached
    path is tested against). Pointers are -100 on pointer-less tokens. With
    ``first_pointer_margin`` (nats), a gene's first boundary (the pointer right after a gene
    token) is the leftmost allowed position whose log-probability is within the margin of the
    best, not the best: genes come in genomic order, so the next gene, not a later one. A
    constraint with ``same_gene(b, tok, p) -> bool[L]`` (positions naming the same gene as p,
    e.g. the other starts of its ORF) then has the best pointer among those taken.
    ``token_logp``: a list to fill with one list per window, the log-probability of each token
    taken among the tokens allowed at its step (a gene token's is the model's confidence that
    another gene follows rather than the end).
    """
    from genet5.nn.pointer_position import last_pointer

    was_training = model.training
    model.eval()
    try:
        enc = model.encode(enc_input_ids_BS, enc_padding_mask_BS, base_ids_BL, base_to_token_BL)
        B, L = enc.base_pad_BL.shape
        lengths = (~enc.base_pad_BL).sum(1).tolist()
        if constraint is not None:
            constraint.begin(B, lengths)
        caches = make_kv_caches(len(model.dec_layers)) if use_cache else None
        dev = enc.base_BLD.device
        in_t = torch.full((B, 1), int(Tok.BOS), dtype=torch.long, device=dev)
        in_p = torch.full((B, 1), IGNORE, dtype=torch.long, device=dev)
        out: list[tuple[list[int], list[int]]] = [([], []) for _ in range(B)]
        logps: list[list[float]] = [[] for _ in range(B)]
        done = [False] * B
        real_V = torch.zeros(model.config.dec_vocab_size, dtype=torch.bool)
        real_V[[int(t) for t in Tok if t not in (Tok.PAD, Tok.BOS)]] = True
        for _ in range(max_steps):
            if use_cache:
                last = last_pointer(in_p)[:, -1:] if model.config.pointer_rel_buckets else None
                tok_BTV, ptr_BTL = model.decode_step(enc, in_t[:, -1:], in_p[:, -1:], caches, last_ptr_BT=last)
            else:
                tok_BTV, ptr_BTL = model.decode_step(enc, in_t, in_p)
            tok_BV, ptr_BL = tok_BTV[:, -1].cpu(), ptr_BTL[:, -1].cpu()
            next_t, next_p = [int(Tok.PAD)] * B, [IGNORE] * B
            for b in range(B):
                if done[b]:
                    continue
                allowed = real_V.clone()
                if constraint is not None:
                    allowed[:NUM_TOKEN_TYPES] &= torch.from_numpy(constraint.allowed_types(b))
                    if not allowed.any():  # cannot happen with GeneConstraint; end cleanly
                        allowed[Tok.EOS] = True
                masked = tok_BV[b].masked_fill(~allowed, float("-inf"))
                t = int(masked.argmax())
                if token_logp is not None:
                    logps[b].append(float(torch.log_softmax(masked.float(), 0)[t]))
                p = IGNORE
                if t in POINTER_TOKENS:
                    pm = ~enc.base_pad_BL[b].cpu()
                    if constraint is not None:
                        pm[: lengths[b]] &= torch.from_numpy(constraint.allowed_pointers(b, t))
                    scores = ptr_BL[b].masked_fill(~pm, float("-inf"))
                    p = int(scores.argmax())
                    if first_pointer_margin is not None and out[b][0] and out[b][0][-1] in (Tok.GENE_PLUS, Tok.GENE_MINUS):
                        near = torch.log_softmax(scores, 0) >= float(torch.log_softmax(scores, 0)[p]) - first_pointer_margin
                        p = int(torch.nonzero(near & pm)[0])
                        if hasattr(constraint, "same_gene"):  # the best pointer of that same gene
                            same = torch.zeros_like(pm)
                            same[: lengths[b]] = torch.from_numpy(constraint.same_gene(b, t, p))
                            p = int(scores.masked_fill(~(same & pm), float("-inf")).argmax())
                if constraint is not None:
                    constraint.advance(b, t, p)
                out[b][0].append(t)
                out[b][1].append(p)
                next_t[b], next_p[b] = t, p
                done[b] = t == Tok.EOS
            in_t = torch.cat([in_t, torch.tensor(next_t, device=dev)[:, None]], 1)
            in_p = torch.cat([in_p, torch.tensor(next_p, device=dev)[:, None]], 1)
            if all(done):
                break
        if token_logp is not None:
            token_logp.extend(logps)
        return out
    finally:
        model.train(was_training)


def predict_genes(model, enc_input_ids_BS, enc_padding_mask_BS=None, **kwargs) -> list[list[GeneStructure]]:
    """decode_greedy, then parse each window's output into gene structures, each with its gene
    token's log-probability as its score."""
    logps: list[list[float]] = []
    results = decode_greedy(model, enc_input_ids_BS, enc_padding_mask_BS, token_logp=logps, **kwargs)
    # each window's own length: a gene cut at the right edge ends at its last real base
    if kwargs.get("base_to_token_BL") is not None:
        lengths = (kwargs["base_to_token_BL"] >= 0).sum(1).tolist()
    elif enc_padding_mask_BS is not None:
        lengths = (~enc_padding_mask_BS.bool()).sum(1).tolist()
    else:
        lengths = [enc_input_ids_BS.shape[1]] * enc_input_ids_BS.shape[0]
    return [decode_genes(t, p, n, scores=lp) for (t, p), n, lp in zip(results, lengths, logps)]
