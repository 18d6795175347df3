"""The gene-structure HMM behind `--decoder viterbi`: states and sequence-gated transitions. Its
Viterbi pass over many regions at once is viterbi_batch.py (compiled loops where numba imports,
viterbi_kernels.py, else numpy vectorised across states and regions; both give the same path).

States (forward coordinates, one state per base):
    IG                 intergenic (UTRs included, unless utr_mean gives them states)
    +U5 +U3 -U5 -U3    optional (utr_mean): a gene's 5' and 3' untranslated flanks, each with its
                       own emission column, geometric length, entered and left for free
    +C0 +C1 +C2        plus-strand CDS, codon position counted along transcription
    -C0 -C1 -C2        minus-strand CDS; read left to right the positions go 2, 1, 0
    +S.. -S..          the start codon's bases: contiguous (A), or split by an intron after its
                       first (B) or second (C) base, as in some yeast ribosomal-protein genes
    introns            per strand, per splice-acceptor group, per phase: A = between codons,
                       B = after codon position 0, C = after position 1. B and C introns are split
                       further by the bases of the codon they interrupt, as far as those bases
                       could begin a stop codon ("T", "TA", "TG" in the standard code), so a stop
                       codon spanning an intron is seen at the acceptor and forbidden.

Transitions are gated by the sequence: a plus gene enters at a start codon and leaves right after
an in-frame stop (stop bases are CDS, as in GFF3); a codon ending in a stop may do nothing else, so
no CDS holds an internal stop. Minus genes mirror this (enter at a reverse-complement stop, leave
after a reverse-complement start). An intron opens at a donor (GT) right after the exon and closes
after an acceptor (AG) right before the next exon. Minimum intron length is exact without a chain
of states: the donor edge jumps `intron_min` bases at once (a delayed edge from t - intron_min,
plus the intron emissions in between); beyond that the length is geometric, or (intron_long) a
mixture of a short and a long geometric class, each its own states; the long class reads the
intergenic emission. Options the eukaryote decoder measures: a start-codon context matrix on the
start edges (a "start" entry in the splice-site document), and a minimum terminal exon
(terminal_exon_min: no in-frame stop that close to the acceptor side of an intron).

Limits, all caught by re-checking each decoded gene on its spliced sequence
(viterbi_decoder._valid, which drops the rare invalid one): a split codon's missing bases are read
as the two bases after the acceptor, so an exon of one or two bases between two introns can fool
it; the final stop codon is checked on contiguous bases, right in every NCBI code whose stops do
not begin with the acceptor's last bases (G, AG), and a stop codon split by an intron is never
predicted.
"""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import GeneticCode, reverse_complement

NEG = -np.inf
IG, PLUS_CDS, PLUS_INTRON, MINUS_CDS, MINUS_INTRON = range(5)  # state kinds
# emission columns: IG (+UTR), plus CDS 0/1/2, plus intron, minus CDS 0/1/2, minus intron
E_IG, E_PCDS, E_PINTRON, E_MCDS, E_MINTRON = 0, 1, 4, 5, 8
# untranslated flanks (utr_mean): plus 5' and 3', minus 5' and 3'; evidence without UTR
# statistics copies the intergenic column into them
E_PUTR5, E_PUTR3, E_MUTR5, E_MUTR3 = 9, 10, 11, 12
N_EMIT = 13

_BASE = np.full(256, 4, dtype=np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _BASE[_c] = _BASE[_c + 32] = _i
_MARGIN = 64  # bases of N on each side of a sequence, so look-ups near the ends (splice PWMs, short-exon gates) need no checks


def padded_base_codes(seq: bytes) -> np.ndarray:
    """A=0 C=1 G=2 T=3, anything else 4, with _MARGIN 4s on each side (uint8: one byte per base
    of a chromosome)."""
    # written in place: a lookup into an int64 table, then a cast and a concatenation, held 10
    # bytes a base at once (0.7 GB on a 70 Mb chromosome) for a 1-byte result
    out = np.full(len(seq) + 2 * _MARGIN, 4, dtype=np.uint8)
    np.take(_BASE, np.frombuffer(seq, dtype=np.uint8), out=out[_MARGIN : _MARGIN + len(seq)])
    return out


def word_code(word: bytes) -> int:
    v = 0
    for ch in word:
        v = 5 * v + int(_BASE[ch])
    return v


def _word_table(words, size: int) -> np.ndarray:
    t = np.zeros(size, dtype=bool)
    for w in words:
        t[word_code(w)] = True
    return t


_MASK_VALUES = np.array([NEG, 0.0], dtype=np.float32)


def _mask(cond: np.ndarray) -> np.ndarray:
    """0 where `cond`, -inf elsewhere (float32; a look-up: cheaper than np.where)."""
    return _MASK_VALUES[cond.view(np.uint8)]


class _Ctx:
    """Base codes at positions `idx` + offset (0-based, N outside the sequence). Bases and words
    are cached: many gate terms read the same ones (a stop codon at t-3 is read by several gates)."""

    def __init__(self, padded: np.ndarray, idx: np.ndarray, sites: dict[str, np.ndarray] | None = None, sites_from: int = 0):
        self.padded, self.idx, self.sites = padded, idx + _MARGIN, sites or {}
        self.site_idx = self.idx - sites_from  # site arrays may cover a block of the sequence only
        self._bases: dict[int, np.ndarray] = {}
        self._words: dict[tuple[int, int], np.ndarray] = {}

    def base(self, off: int) -> np.ndarray:
        """Base codes (uint8) at idx + off."""
        if off not in self._bases:
            self._bases[off] = self.padded[self.idx + off]
        return self._bases[off]

    def word(self, off: int, width: int) -> np.ndarray:
        """Base-5 code of the `width` bases starting at idx + off."""
        if (off, width) not in self._words:
            v = self.base(off).astype(np.int64)
            for k in range(1, width):
                v = 5 * v + self.base(off + k)
            self._words[(off, width)] = v
        return self._words[(off, width)]


class GeneHMM:
    """State space and transition structure for one genetic code, start set and splice set.

    `splice_pairs` maps (donor, acceptor) to a log-prior (0 for GT-AG); introns are split by
    acceptor so that a donor only pairs with its own acceptor (AT with AC, GT/GC with AG)."""

    def __init__(
        self,
        code: GeneticCode,
        starts: frozenset[bytes],
        splice_pairs: dict[tuple[bytes, bytes], float],
        *,
        gene_logp: float,
        intron_logp: float,
        intron_min: int,
        intron_mean: float,
        splice_pwm: dict | None = None,
        splice_pwm_weight: float = 1.0,
        intron_long: tuple[float, float] | None = None,
        terminal_exon_min: int = 0,
        utr_mean: float | None = None,
        site_terms: bool = False,
    ):
        if intron_min < 4:
            raise ValueError("intron_min must be at least 4 (donor and acceptor dinucleotides)")
        if not 0 <= terminal_exon_min <= _MARGIN - 8:
            raise ValueError(f"terminal_exon_min must be within 0..{_MARGIN - 8}")
        if intron_long is not None and not (0.0 < intron_long[0] < 1.0 and intron_long[1] > 1.0):
            raise ValueError("intron_long is (weight in (0, 1), mean > 1)")
        rc = reverse_complement
        self.intron_min = intron_min
        self.gene_logp = gene_logp
        rcstops, rcstarts = {rc(s) for s in code.stops}, {rc(s) for s in starts}
        self.tables = {
            "stop": _word_table(code.stops, 125), "start": _word_table(starts, 125),
            "rcstop": _word_table(rcstops, 125), "rcstart": _word_table(rcstarts, 125),
        }
        # Codon prefixes a split codon carries across an intron, as far as they matter (for
        # stops, whether they could begin one: "T", "TA", "TG" in the standard code). Minus-strand
        # prefixes are the forward-strand bases left of the intron.
        self.prefixes = {
            "stop1": sorted({word_code(w[:1]) for w in code.stops}), "stop2": sorted({word_code(w[:2]) for w in code.stops}),
            "rcstop1": sorted({word_code(w[:1]) for w in rcstops}), "rcstop2": sorted({word_code(w[:2]) for w in rcstops}),
            "start1": sorted({word_code(w[:1]) for w in starts}), "start2": sorted({word_code(w[:2]) for w in starts}),
            "rcstart1": sorted({word_code(w[:1]) for w in rcstarts}), "rcstart2": sorted({word_code(w[:2]) for w in rcstarts}),
        }
        self.classes = {name: _classes(codes, 5 ** int(name[-1])) for name, codes in self.prefixes.items()}
        self.tables["start1"] = self.classes["start1"] > 0
        self.tables["start2"] = self.classes["start2"] > 0
        groups: dict[bytes, dict[bytes, float]] = {}
        for (donor, acceptor), lp in splice_pairs.items():
            groups.setdefault(acceptor, {})[donor] = lp
        self.splice: dict[str, list[np.ndarray]] = {"don": [], "acc": [], "rdon": [], "racc": []}
        for acceptor, donors in groups.items():
            d = np.full(25, NEG, dtype=np.float32)
            r = np.full(25, NEG, dtype=np.float32)
            for donor, lp in donors.items():
                d[word_code(donor)] = lp
                r[word_code(rc(donor))] = lp
            self.splice["don"].append(d)
            self.splice["rdon"].append(r)
            self.splice["acc"].append(_mask(_word_table([acceptor], 25)))
            self.splice["racc"].append(_mask(_word_table([rc(acceptor)], 25)))

        # splice-site PWMs (log-odds, forward-coordinate windows; see splice_site_pwms)
        self.pwm = splice_site_pwms(splice_pwm, splice_pwm_weight) if splice_pwm and splice_pwm_weight else {}

        kinds: list[int] = []  # per state, in build order (renumbered below)
        emits: list[int] = []
        cposs: list[int] = []
        self.names: list[str] = []
        edge_oks: list[bool] = []  # may hold the first base of a sequence (partial genes)
        # Gates are tuples of terms, each 0 / -inf (or a log-prior) per position; offsets are
        # relative to the destination base t (edges) or to the last exon base j (jumps).
        edges: list[tuple[int, int, tuple, float]] = []  # (dst, src, gate, log-penalty)
        jumps: list[tuple[int, int, tuple, float]] = []

        def state(name: str, kind: int, cpos: int = -1, edge_ok: bool = True, emit: int | None = None) -> int:
            self.names.append(name)
            edge_oks.append(edge_ok)
            kinds.append(kind)
            emits.append(emit if emit is not None else {IG: E_IG, PLUS_CDS: E_PCDS + cpos, MINUS_CDS: E_MCDS + cpos,
                                                        PLUS_INTRON: E_PINTRON, MINUS_INTRON: E_MINTRON}[kind])
            cposs.append(cpos)
            return len(self.names) - 1

        def intron(name: str, kind: int, before: int, after: int, g: int, opened: tuple, closed: tuple, edge_ok: bool):
            opener, closer = ("don", "acc") if kind == PLUS_INTRON else ("racc", "rdon")
            open_pwm = (("pwm", opener),) if opener in self.pwm else ()
            close_pwm = (("pwm", closer),) if closer in self.pwm else ()
            if site_terms:  # per-position evidence given to gates() (the trained site classifier)
                open_pwm, close_pwm = open_pwm + (("site", opener),), close_pwm + (("site", closer),)
            for suffix, loop, class_logp, emit_like_ig in length_classes:
                s = state(name + suffix, kind, edge_ok=edge_ok, emit=E_IG if emit_like_ig else None)
                edges.append((s, s, (), loop))
                jumps.append((s, before, (("splice", opener, g, 1),) + open_pwm + opened, intron_logp + class_logp))
                edges.append((after, s, (("splice", closer, g, -2),) + close_pwm + closed, 0.0))

        def geometric_loop(mean: float) -> float:
            return float(np.log1p(-1.0 / max(mean, 1.0 + 1e-9)))

        # Intron length beyond intron_min: one geometric, or a mixture of a short one (the
        # short-intron peak of fly, worm and plants) and a long one (their tail, hundreds of bases
        # to kilobases), each a state of its own; a single geometric fitted to the peak makes every
        # long intron so dear that the gene is split in two instead.
        # The long class reads the intergenic emission: long introns look like the sequence
        # between genes, not like the short introns an intron chain learns from.
        length_classes = [("", geometric_loop(intron_mean), 0.0, False)]
        if intron_long is not None:
            weight, long_mean = intron_long
            length_classes = [("", geometric_loop(intron_mean), float(np.log1p(-weight)), False),
                              ("L", geometric_loop(long_mean), float(np.log(weight)), True)]

        def no_stop_within(table: str, first: int, step: int, length0: int) -> tuple:
            """Gate terms: no `table` codon at offsets first, first+step, ... while the exon it
            would end is shorter than terminal_exon_min (`length0` its length at the first)."""
            terms, off, length = [], first, length0
            while length < terminal_exon_min:
                terms.append(("notin", table, off, 3))
                off, length = off + step, length + 3
            return tuple(terms)

        # A terminal exon shorter than terminal_exon_min bases is forbidden at the intron before
        # it (the side of the stop codon): no in-frame stop may lie that close to the splice site.
        # Plus strand: the exon after the acceptor, codons from t (A), t+2 (B), t+1 (C); minus
        # strand: the exon left of the intron, codons ending at j (A), j-1 (B), j-2 (C).
        short_after = {0: no_stop_within("stop", 0, 3, 3), 1: no_stop_within("stop", 2, 3, 5),
                       2: no_stop_within("stop", 1, 3, 4)}
        short_before = {0: no_stop_within("rcstop", -2, -3, 3), 2: no_stop_within("rcstop", -3, -3, 4),
                        1: no_stop_within("rcstop", -4, -3, 5)}
        # start-codon context (Kozak-like), where the model carries one: on contiguous starts
        start_pwm = (("pwm", "start"),) if "start" in self.pwm else ()
        rstart_pwm = (("pwm", "rstart"),) if "rstart" in self.pwm else ()
        if site_terms:
            start_pwm, rstart_pwm = start_pwm + (("site", "start"),), rstart_pwm + (("site", "rstart"),)
        # gene ends: the classifier's stop evidence (zero where no "stop" / "rstop" array is given)
        stop_site, rstop_site = ((("site", "stop"),), (("site", "rstop"),)) if site_terms else ((), ())
        ig = state("IG", IG)
        c = [state(f"+C{k}", PLUS_CDS, k) for k in range(3)]
        m = [state(f"-C{k}", MINUS_CDS, k) for k in range(3)]
        # Start codons have states of their own: contiguous (A), or split by an intron after
        # its first (B) or second (C) base, so the codon is checked whole either way.
        sa0, sa1 = state("+SA0", PLUS_CDS, 0, False), state("+SA1", PLUS_CDS, 1, False)
        sb0 = state("+SB0", PLUS_CDS, 0, False)
        sc0, sc1 = state("+SC0", PLUS_CDS, 0, False), state("+SC1", PLUS_CDS, 1, False)
        ea1, ea0 = state("-SA1", MINUS_CDS, 1, False), state("-SA0", MINUS_CDS, 0, False)
        eb0 = state("-SB0", MINUS_CDS, 0, False)
        ec1, ec0 = state("-SC1", MINUS_CDS, 1, False), state("-SC0", MINUS_CDS, 0, False)
        # UTR states (utr_mean): a gene's flanks read their own statistics (emission columns
        # E_*UTR*), so that an AT-rich 3' UTR is not explained better by an intron and a tiny
        # exon than by the intergenic state. Each is entered and left for free (one base of it
        # is the intergenic state at no cost) and lasts geometrically.
        if utr_mean is not None:
            u5p, u3p = state("+U5", IG, edge_ok=False, emit=E_PUTR5), state("+U3", IG, edge_ok=False, emit=E_PUTR3)
            u5m, u3m = state("-U5", IG, edge_ok=False, emit=E_MUTR5), state("-U3", IG, edge_ok=False, emit=E_MUTR3)
            utr_loop = geometric_loop(utr_mean)
            edges += [(u, u, (), utr_loop) for u in (u5p, u3p, u5m, u3m)]
            edges += [(u5p, ig, (), 0.0), (ig, u3p, (), 0.0), (u3m, ig, (), 0.0), (ig, u5m, (), 0.0)]
            before_plus, after_plus, before_minus, after_minus = u5p, u3p, u3m, u5m
        else:
            before_plus = after_plus = before_minus = after_minus = ig
        edges += [
            (ig, ig, (), 0.0),
            (after_plus, c[2], (("in", "stop", -3, 3),) + stop_site, 0.0),
            (c[0], c[2], (("notin", "stop", -3, 3),), 0.0),
            (c[1], c[0], (), 0.0),
            (c[2], c[1], (), 0.0),
            (sa0, before_plus, (("in", "start", 0, 3),) + start_pwm, gene_logp),
            (sa1, sa0, (), 0.0),
            (c[2], sa1, (), 0.0),
            (sb0, before_plus, (("in", "start1", 0, 1),), gene_logp),
            (sc0, before_plus, (("in", "start2", 0, 2),), gene_logp),
            (sc1, sc0, (), 0.0),
            (m[2], before_minus, (("in", "rcstop", 0, 3),) + rstop_site, gene_logp),
            (m[2], m[0], (("notin", "rcstop", 0, 3),), 0.0),
            (m[1], m[2], (), 0.0),
            (m[0], m[1], (), 0.0),
            (ea1, m[2], (("in", "rcstart", -1, 3),) + rstart_pwm, 0.0),
            (ea0, ea1, (), 0.0),
            (after_minus, ea0, (), 0.0),
            (after_minus, eb0, (), 0.0),
            (ec0, ec1, (), 0.0),
            (after_minus, ec0, (), 0.0),
        ]
        P = self.prefixes
        for g in range(len(groups)):
            # plus strand: A between codons, B after codon position 0, C after position 1;
            # class 0 carries a prefix that cannot begin a stop
            intron(f"+I{g}A", PLUS_INTRON, c[2], c[0], g, (("notin", "stop", -2, 3),), short_after[0], True)
            for ci in range(1 + len(P["stop1"])):
                closed = (("prefix_notin", "stop", P["stop1"][ci - 1], 0, 2),) if ci else ()
                intron(f"+I{g}B{ci}", PLUS_INTRON, c[0], c[1], g, (("cls", "stop1", 0, 1, ci),),
                       closed + short_after[1], ci == 0)
            for ci in range(1 + len(P["stop2"])):
                closed = (("prefix_notin", "stop", P["stop2"][ci - 1], 0, 1),) if ci else ()
                intron(f"+I{g}C{ci}", PLUS_INTRON, c[1], c[2], g, (("cls", "stop2", -1, 2, ci),),
                       closed + short_after[2], ci == 0)
            for ci, pre in enumerate(P["start1"], 1):
                intron(f"+I{g}SB{ci}", PLUS_INTRON, sb0, c[1], g, (("cls", "start1", 0, 1, ci),),
                       (("prefix_in", "start", pre, 0, 2),) + short_after[1], False)
            for ci, pre in enumerate(P["start2"], 1):
                intron(f"+I{g}SC{ci}", PLUS_INTRON, sc1, c[2], g, (("cls", "start2", -1, 2, ci),),
                       (("prefix_in", "start", pre, 0, 1),) + short_after[2], False)
            # minus strand, read left to right: the exon left of the intron is downstream
            intron(f"-I{g}A", MINUS_INTRON, m[0], m[2], g, short_before[0], (("notin", "rcstop", 0, 3),), True)
            for ci in range(1 + len(P["rcstop1"])):
                closed = (("prefix_notin", "rcstop", P["rcstop1"][ci - 1], 0, 2),) if ci else ()
                intron(f"-I{g}B{ci}", MINUS_INTRON, m[2], m[1], g, (("cls", "rcstop1", 0, 1, ci),) + short_before[2],
                       closed, ci == 0)
            for ci in range(1 + len(P["rcstop2"])):
                closed = (("prefix_notin", "rcstop", P["rcstop2"][ci - 1], 0, 1),) if ci else ()
                intron(f"-I{g}C{ci}", MINUS_INTRON, m[1], m[0], g, (("cls", "rcstop2", -1, 2, ci),) + short_before[1],
                       closed, ci == 0)
            for ci, pre in enumerate(P["rcstart2"], 1):
                intron(f"-I{g}SB{ci}", MINUS_INTRON, m[1], eb0, g, (("cls", "rcstart2", -1, 2, ci),) + short_before[1],
                       (("prefix_in", "rcstart", pre, 0, 1),), False)
            for ci, pre in enumerate(P["rcstart1"], 1):
                intron(f"-I{g}SC{ci}", MINUS_INTRON, m[2], ec1, g, (("cls", "rcstart1", 0, 1, ci),) + short_before[2],
                       (("prefix_in", "rcstart", pre, 0, 2),), False)
        # Renumber states by in-degree (IG stays 0): the forward pass takes the states with at
        # most two incoming edges as one block and the rest as another, so that little work is
        # spent on padding slots.
        S, J = len(self.names), len(jumps)
        degree = np.zeros(S, dtype=np.int64)
        for dst, *_ in edges + jumps:
            degree[dst] += 1
        block = (degree <= 2).astype(np.int64)
        order = np.lexsort((np.arange(S), block))
        new_of = np.empty(S, dtype=np.int64)
        new_of[order] = np.arange(S)
        # penalties become constant gate terms, so one gather serves both
        def with_pen(gate: tuple, pen: float) -> tuple:
            return gate + ((("const", pen),) if pen else ())

        edges = [(int(new_of[d]), int(new_of[s]), with_pen(g, p)) for d, s, g, p in edges]
        jumps = [(int(new_of[d]), int(new_of[s]), with_pen(g, p)) for d, s, g, p in jumps]
        self.n_states = S
        self.ig_state = int(new_of[ig])
        self.names = [self.names[i] for i in order]
        self.kind_arr = np.array(kinds, dtype=np.int8)[order]
        self.emit_arr = np.array(emits, dtype=np.int64)[order]
        self.cpos_arr = np.array(cposs, dtype=np.int64)[order]
        self.edge_ok_arr = np.array(edge_oks, dtype=bool)[order]
        degree, block = degree[order], block[order]

        self.gate_keys = list(dict.fromkeys(g for _, _, g in edges))
        self.jump_keys = [g for _, _, g in jumps]
        self.jump_src = np.array([s for _, s, _ in jumps], dtype=np.int64)
        # which cumulated emission a jump adds over its intron_min bases (viterbi_batch's ci)
        self.jump_ci = np.array([{E_PINTRON: 0, E_MINTRON: 1, E_IG: 2}[int(self.emit_arr[d])] for d, _, _ in jumps],
                                dtype=np.int64)
        incoming: list[list[tuple[int, int, int]]] = [[] for _ in range(S)]
        for dst, src, gate in edges:
            incoming[dst].append((src, self.gate_keys.index(gate), src))
        for j, (dst, src, _) in enumerate(jumps):
            incoming[dst].append((S + j, 0, src))  # its gate is applied when recorded
        K = self.max_in = int(degree.max())
        # slot (dst, k): where its score comes from in the per-step source buffer
        # [delta (S) | jump values (J) | -inf], its gate column, and the state before
        self.slot_src = np.full(S * K, S + J, dtype=np.int64)
        self.slot_gate = np.zeros(S * K, dtype=np.int64)
        self.slot_prev = np.zeros(S * K, dtype=np.int64)
        for dst, ins in enumerate(incoming):
            for k, (src, gate, prev) in enumerate(ins):
                self.slot_src[dst * K + k], self.slot_gate[dst * K + k], self.slot_prev[dst * K + k] = src, gate, prev
        self.slot_is_jump = (self.slot_src >= S) & (self.slot_src < S + J)
        self.loop_slot = np.zeros(S, dtype=np.int64)  # an intron's self-loop among its slots
        for dst in range(S):
            for k in range(K):
                if self.slot_src[dst * K + k] == dst:
                    self.loop_slot[dst] = k
        # per block: state range, slots per state, and the slot arrays cut to that width
        self.blocks = []
        for b in range(2):
            lo, hi = int(np.searchsorted(block, b)), int(np.searchsorted(block, b, side="right"))
            if lo < hi:
                width = max(int(degree[lo:hi].max()), 2)
                sl = (np.arange(lo, hi)[:, None] * K + np.arange(width)[None, :]).ravel()
                self.blocks.append((lo, hi, width, self.slot_src[sl], self.slot_gate[sl]))

    # -- gates: 0 (allowed, or a log-prior) / -inf per position -------------------------------
    def gates(self, padded: np.ndarray, idx: np.ndarray, sites: dict[str, np.ndarray] | None = None,
              sites_from: int = 0, out: tuple[np.ndarray, np.ndarray] | None = None,
              rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(edge gates at each position t, jump gates at each last exon base j). `sites`: per
        splice or start gate ("don", "acc", "racc", "rdon", "start", "rstart"; predict/eukaryote/sites.py),
        a log-odds per sequence position, padded by
        _MARGIN on each side (pad_sites), read by the "site" terms of an HMM built with
        site_terms=True; absent: 0. The arrays start at base `sites_from` (a block of a long
        sequence). Positions are taken _GATE_CHUNK at a time, so the cached bases, words and
        terms of a chunk stay small (a million positions at once spent much of their time in
        page faults). `out` (with `rows`): write position i's gates into rows[i] of these two
        arrays (a batch's rows of several sequences) instead of new arrays."""
        if out is None:
            out = tuple(np.empty((idx.size, len(keys)), dtype=np.float32) for keys in (self.gate_keys, self.jump_keys))
        for c0 in range(0, idx.size, _GATE_CHUNK):
            sub = idx[c0 : c0 + _GATE_CHUNK]
            ctx = _Ctx(padded, sub, sites, sites_from)
            cache: dict[tuple, np.ndarray] = {}
            for term, need in self._needed(ctx, cache).items():  # matrices only at candidate sites
                cache[term] = self._term(term, ctx, need)
            for keys, dst in zip((self.gate_keys, self.jump_keys), out):
                arr = np.zeros((len(keys), sub.size), dtype=np.float32)  # summed a column at a time, contiguous
                for col, gate in enumerate(keys):
                    for term in gate:
                        if term not in cache:
                            cache[term] = self._term(term, ctx)
                        arr[col] += cache[term]
                if rows is None:
                    dst[c0 : c0 + sub.size] = arr.T
                else:
                    dst[rows[c0 : c0 + sub.size]] = arr.T
        return out[0], out[1]

    def _needed(self, x: _Ctx, cache: dict) -> dict[tuple, np.ndarray | None]:
        """Per "pwm" term, the positions where some gate holding it can be finite: where each
        such gate's first mask term (a dinucleotide or codon check) is. Elsewhere the gate is
        -inf whatever the matrix adds, so the matrix (most of the gates' cost: 9-21 look-ups a
        position) is summed only at those positions, the same values bit for bit (None: all)."""
        need: dict[tuple, np.ndarray | None] = {}
        for gate in self.gate_keys + self.jump_keys:
            for term in gate:
                if term[0] != "pwm" or (term in need and need[term] is None):
                    continue
                masks = [t for t in gate if t[0] in _MASK_OPS]
                if not masks:
                    need[term] = None
                    continue
                if masks[0] not in cache:
                    cache[masks[0]] = self._term(masks[0], x)
                ok = np.isfinite(cache[masks[0]])
                need[term] = ok if term not in need else need[term] | ok
        return need

    def _term(self, term: tuple, x: _Ctx, need: np.ndarray | None = None) -> np.ndarray:
        """One gate term at every position of `x` ("pwm" terms: at the `need` positions only, 0
        elsewhere; see _needed)."""
        op = term[0]
        if op == "const":
            return np.full(x.idx.size, term[1], dtype=np.float32)
        if op == "splice":  # ("splice", which, group, offset): a dinucleotide's log-prior
            return self.splice[term[1]][term[2]][x.word(term[3], 2)]
        if op == "site":  # ("site", which): per-position evidence handed to gates()
            arr = x.sites.get(term[1])
            return np.zeros(x.idx.size, dtype=np.float32) if arr is None else arr[x.site_idx].astype(np.float32)
        if op == "pwm":  # ("pwm", which): splice-site log-odds summed over its window
            off, table = self.pwm[term[1]]
            at = x.idx if need is None else x.idx[need]
            score = np.zeros(at.size, dtype=np.float32)
            for k in range(table.shape[0]):
                score += table[k][x.padded[at + (off + k)]]
            if need is None:
                return score
            full = np.zeros(x.idx.size, dtype=np.float32)
            full[need] = score
            return full
        if op in ("in", "notin"):  # (op, table, offset, width): the bases there are in the table
            hit = self.tables[term[1]][x.word(term[2], term[3])]
        elif op in ("prefix_in", "prefix_notin"):  # (op, table, prefix, offset, width): prefix + bases
            width = term[4]
            hit = self.tables[term[1]][term[2] * 5**width + x.word(term[3], width)]
        else:  # ("cls", classes, offset, width, class index)
            hit = self.classes[term[1]][x.word(term[2], term[3])] == term[4]
        return _mask(~hit if op.endswith("notin") else hit)


_GATE_CHUNK = 1 << 16  # positions whose gates are made at once
_MASK_OPS = ("splice", "in", "notin", "prefix_in", "prefix_notin", "cls")  # terms that are 0 / -inf (or a log-prior)


def pad_sites(sites: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-position site arrays padded with _MARGIN zeros on each side, as gates() reads them."""
    pad = np.zeros(_MARGIN, dtype=np.float32)
    return {k: np.concatenate([pad, v.astype(np.float32), pad]) for k, v in sites.items()}


def splice_site_pwms(doc: dict, weight: float = 1.0) -> dict[str, tuple[int, np.ndarray]]:
    """Log-odds tables (width, 5: A C G T N) with their window offsets, from the base
    frequencies of scripts/make_splice_pwm.py, for the four splice gates. Offsets are relative
    to the gate's position: the last exon base j for openers (jumps), the first exon base t after
    the intron for closers. Donor window: 3 exon + 6 intron bases; acceptor: 20 intron bases + 1
    exon base (transcription orientation; minus-strand gates read them reverse-complemented). The
    GT/AG columns are zeroed: the dinucleotide gate already requires them."""
    bg = np.asarray(doc["background"], dtype=np.float64)

    def log_odds(freq, fixed: tuple[int, int]) -> np.ndarray:
        t = np.zeros((len(freq), 5), dtype=np.float32)
        t[:, :4] = weight * np.log(np.asarray(freq, dtype=np.float64) / bg[None, :])
        t[list(fixed), :] = 0.0
        return t

    def rc(t: np.ndarray) -> np.ndarray:  # window read on the other strand: reverse, A<->T, C<->G
        out = t[::-1].copy()
        out[:, :4] = out[:, [3, 2, 1, 0]]
        return out

    d, a = doc["donor"], doc["acceptor"]
    ex, ai = int(d["exon_bases"]), int(a["intron_bases"])
    don = log_odds(d["freq"], (ex, ex + 1))
    acc = log_odds(a["freq"], (ai - 2, ai - 1))
    out = {
        "don": (1 - ex, don),  # plus donor: bases j-2 .. j+6
        "acc": (-ai, acc),  # plus acceptor: bases t-20 .. t
        "racc": (1 - int(a["exon_bases"]), rc(acc)),  # minus: the acceptor lies left of the intron
        "rdon": (-int(d["intron_bases"]), rc(don)),  # minus: the donor lies right of the intron
    }
    if "start" in doc:  # start-codon context: `upstream` bases, the codon (columns zeroed), the rest
        st = doc["start"]
        up, width = int(st["upstream"]), len(st["freq"])
        table = log_odds(st["freq"], (up, up + 1, up + 2))
        out["start"] = (-up, table)  # plus: the codon's first base is t
        out["rstart"] = (-1 - (width - up - 3), rc(table))  # minus: the codon is t-1 .. t+1
    return out


def _classes(codes: list[int], size: int) -> np.ndarray:
    t = np.zeros(size, dtype=np.int64)
    for i, c in enumerate(codes, 1):
        t[c] = i
    return t
