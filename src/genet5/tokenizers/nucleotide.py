"""Single-nucleotide tokenizer with the published Genos ids.

Ids: ``[PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 C=5 G=6 T=7 A=8 N=9``; the embedding table is
padded to ``vocab_size`` (128 for genos-1.2b, 256 for genos-10b) so that ids 10.. are unused.

Policy (one base in, one id out, so position i of the ids is base i of the sequence):

- lower-case (soft-masked repeats) maps to the same id as upper-case; the mask itself is
  available separately from :meth:`NucleotideTokenizer.soft_mask`;
- ``U`` (RNA) maps to ``T``;
- IUPAC ambiguity letters ``R Y S W K M B D H V N`` map to ``N``;
- anything else (gaps ``-``, ``*``, digits, whitespace) maps to ``[UNK]``.

Encoding is a single numpy fancy-index through a 256-entry lookup table on the raw bytes,
which runs at memory speed even for whole chromosomes.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = 0, 1, 2, 3, 4
C_ID, G_ID, T_ID, A_ID, N_ID = 5, 6, 7, 8, 9
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
BASES = "CGTAN"  # ids 5..9 in this order
NUM_DEFINED = len(SPECIAL_TOKENS) + len(BASES)  # 10
IUPAC_AMBIGUOUS = "RYSWKMBDHVN"


def _build_encode_table() -> np.ndarray:
    table = np.full(256, UNK_ID, dtype=np.uint8)
    for letter in IUPAC_AMBIGUOUS:
        table[ord(letter)] = table[ord(letter.lower())] = N_ID
    for i, base in enumerate(BASES):
        table[ord(base)] = table[ord(base.lower())] = C_ID + i
    table[ord("U")] = table[ord("u")] = T_ID
    return table


_ENCODE_TABLE = _build_encode_table()
# ids -> one ASCII byte, for the fast decode path of pure-base id arrays.
_DECODE_TABLE = np.zeros(NUM_DEFINED, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _DECODE_TABLE[C_ID + _i] = ord(_b)


def _as_bytes(seq: str | bytes | bytearray | memoryview) -> np.ndarray:
    if isinstance(seq, str):
        # latin-1 keeps one byte per character; non-latin characters become UNK below.
        seq = seq.encode("latin-1", errors="replace")
    return np.frombuffer(seq, dtype=np.uint8)


class NucleotideTokenizer:
    """One id per base; see the module docstring for the mapping policy."""

    pad_id, unk_id, cls_id, sep_id, mask_id = PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID
    n_id = N_ID

    def __init__(self, vocab_size: int = 128):
        if vocab_size < NUM_DEFINED:
            raise ValueError(f"vocab_size must be >= {NUM_DEFINED}, got {vocab_size}")
        self.vocab_size = vocab_size

    def __len__(self) -> int:
        return self.vocab_size

    # -- encoding ---------------------------------------------------------------------------
    def encode(
        self, seq: str | bytes, add_cls: bool = False, add_sep: bool = False, dtype=np.int64
    ) -> np.ndarray:
        """Ids of ``seq`` (1-D array, one per base, optionally framed by [CLS]/[SEP])."""
        ids = _ENCODE_TABLE[_as_bytes(seq)].astype(dtype)
        if add_cls or add_sep:
            parts = [np.array([CLS_ID], dtype)] if add_cls else []
            parts.append(ids)
            if add_sep:
                parts.append(np.array([SEP_ID], dtype))
            ids = np.concatenate(parts)
        return ids

    def encode_batch(
        self, seqs: Sequence[str | bytes], pad_to: int | None = None, dtype=np.int64
    ) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded ``(ids_BL, valid_BL)``; ``valid`` is False on padding."""
        length = max((len(s) for s in seqs), default=0) if pad_to is None else pad_to
        ids_BL = np.full((len(seqs), length), PAD_ID, dtype=dtype)
        valid_BL = np.zeros((len(seqs), length), dtype=bool)
        for b, s in enumerate(seqs):
            if len(s) > length:
                raise ValueError(f"sequence {b} has length {len(s)} > pad_to={length}")
            ids_BL[b, : len(s)] = self.encode(s, dtype=dtype)
            valid_BL[b, : len(s)] = True
        return ids_BL, valid_BL

    @staticmethod
    def soft_mask(seq: str | bytes) -> np.ndarray:
        """Boolean array, True where the base is lower-case (soft-masked repeat)."""
        b = _as_bytes(seq)
        return (b >= ord("a")) & (b <= ord("z"))

    # -- decoding ---------------------------------------------------------------------------
    def decode(self, ids: Iterable[int] | np.ndarray, skip_special_tokens: bool = True) -> str:
        """Bases as upper-case letters; specials as ``[PAD]``-style names unless skipped.

        Unused padded ids (10..vocab_size-1) decode as ``[UNUSED]`` (or are skipped); ids
        outside the vocabulary raise ``ValueError``.
        """
        arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)
        if arr.ndim != 1:
            raise ValueError(f"decode takes a 1-D id sequence, got shape {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            bad = int(arr[(arr < 0) | (arr >= self.vocab_size)][0])
            raise ValueError(f"id {bad} outside vocabulary of size {self.vocab_size}")
        is_base = (arr >= C_ID) & (arr <= N_ID)
        if is_base.all():  # fast path: one table lookup
            return _DECODE_TABLE[arr].tobytes().decode("ascii")
        out = []
        for i in arr.tolist():
            if C_ID <= i <= N_ID:
                out.append(BASES[i - C_ID])
            elif not skip_special_tokens:
                out.append(SPECIAL_TOKENS[i] if i < len(SPECIAL_TOKENS) else "[UNUSED]")
        return "".join(out)

    def id_to_token(self, i: int) -> str:
        if i < len(SPECIAL_TOKENS):
            return SPECIAL_TOKENS[i]
        if i < NUM_DEFINED:
            return BASES[i - C_ID]
        if i < self.vocab_size:
            return "[UNUSED]"
        raise ValueError(f"id {i} outside vocabulary of size {self.vocab_size}")

    def token_to_id(self, token: str) -> int:
        if token in SPECIAL_TOKENS:
            return SPECIAL_TOKENS.index(token)
        if len(token) == 1:
            return int(_ENCODE_TABLE[ord(token) & 0xFF]) if ord(token) < 256 else UNK_ID
        raise ValueError(f"unknown token {token!r}")
