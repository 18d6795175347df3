"""Byte-pair encoding over DNA (DNABERT-2 style) on top of Hugging Face ``tokenizers``.

A BPE token covers a variable run of bases, but GeneT5's pointer chooses *bases*, so every
encoding keeps character offsets: ``offsets_T2[t] = (start, end)`` is the half-open base range
of token t in the input, and :func:`base_to_token` turns that into a per-base token index that
lets a model gather token states back to base resolution.

Normalization follows the nucleotide tokenizer's policy and is done with 1-character
replacements only, so offsets stay exact base positions: lower-case -> upper-case, ``U`` -> ``T``,
IUPAC ambiguity letters -> ``N``; any other character is not in the alphabet and becomes
``[UNK]``. There is no pre-tokenizer: a sequence is one "word". Training cuts sequences into
chunks (``chunk_size`` bases) so that no single word is a whole chromosome.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from tokenizers import Regex, Tokenizer, models, normalizers, trainers

from genet5.tokenizers.nucleotide import SPECIAL_TOKENS

ALPHABET = ["A", "C", "G", "T", "N"]
TOKENIZER_FILE = "tokenizer.json"


def _normalizer() -> normalizers.Normalizer:
    steps = [normalizers.Replace(c, c.upper()) for c in "acgtn"]
    steps += [
        normalizers.Replace(Regex("[Uu]"), "T"),
        normalizers.Replace(Regex("[RYSWKMBDHVryswkmbdhv]"), "N"),
    ]
    return normalizers.Sequence(steps)


def _to_str(seq: str | bytes) -> str:
    return seq.decode("latin-1") if isinstance(seq, (bytes, bytearray, memoryview)) else seq


def iter_fasta_sequences(path: str | os.PathLike) -> Iterator[bytes]:
    """Sequences of a (optionally gzipped) FASTA file, as bytes.

    Uses the project's ``genet5.genome.fasta.read_fasta`` when it exists; otherwise a minimal
    line reader (no validation beyond a header check).
    """
    try:
        from genet5.genome.fasta import read_fasta  # type: ignore[import-not-found]
    except ImportError:
        read_fasta = None
    if read_fasta is not None:
        for rec in read_fasta(path):
            yield bytes(rec.seq)
        return
    opener = gzip.open if str(path).endswith(".gz") else open
    parts: list[bytes] = []
    seen_header = False
    with opener(path, "rb") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(b">"):
                if parts:
                    yield b"".join(parts)
                parts, seen_header = [], True
            elif line:
                if not seen_header:
                    raise ValueError(f"{path}: not a FASTA file (sequence before first '>')")
                parts.append(line.upper())
    if parts:
        yield b"".join(parts)


def chunk_sequences(seqs: Iterable[str | bytes], chunk_size: int) -> Iterator[str]:
    """Cut each sequence into ``chunk_size``-base pieces (the last piece may be shorter)."""
    for seq in seqs:
        s = _to_str(seq)
        for i in range(0, len(s), chunk_size):
            yield s[i : i + chunk_size]


@dataclass
class BPEEncoding:
    ids: np.ndarray  # (T,) int64
    offsets_T2: np.ndarray  # (T, 2) int64, half-open base range of each token

    def __len__(self) -> int:
        return len(self.ids)

    def base_to_token(self, length: int | None = None) -> np.ndarray:
        return base_to_token(self.offsets_T2, length)


def base_to_token(offsets_T2: np.ndarray, length: int | None = None) -> np.ndarray:
    """Per-base token index, shape (L,); bases covered by no token (none in practice) get -1."""
    length = int(offsets_T2[:, 1].max()) if length is None and len(offsets_T2) else (length or 0)
    idx_L = np.full(length, -1, dtype=np.int64)
    spans = offsets_T2[:, 1] - offsets_T2[:, 0]
    tok = np.repeat(np.arange(len(offsets_T2)), spans)
    pos = np.concatenate([np.arange(s, e) for s, e in offsets_T2]) if len(tok) else tok
    idx_L[pos] = tok
    return idx_L


class DNABPETokenizer:
    """BPE tokenizer over DNA; ids 0-4 are the same specials as the nucleotide tokenizer."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        for i, tok in enumerate(SPECIAL_TOKENS):
            if tokenizer.token_to_id(tok) != i:
                raise ValueError(f"tokenizer must map {tok} to id {i}")
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = range(5)

    # -- training ---------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        sequences: Iterable[str | bytes],
        vocab_size: int = 4096,
        chunk_size: int = 1000,
        min_frequency: int = 2,
        max_token_length: int = 32,
    ) -> "DNABPETokenizer":
        """Learn merges from an iterable of sequences (cut into ``chunk_size`` chunks)."""
        tok = Tokenizer(models.BPE(unk_token="[UNK]"))
        tok.normalizer = _normalizer()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=ALPHABET,
            limit_alphabet=len(ALPHABET),  # stray characters never enter the vocabulary
            max_token_length=max_token_length,
            show_progress=False,
        )
        tok.train_from_iterator(chunk_sequences(sequences, chunk_size), trainer=trainer)
        return cls(tok)

    @classmethod
    def train_from_fasta(
        cls, paths: Sequence[str | os.PathLike], **kwargs
    ) -> "DNABPETokenizer":
        seqs = (s for p in paths for s in iter_fasta_sequences(p))
        return cls.train(seqs, **kwargs)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``tokenizer.json`` (into ``path`` if it is a directory); atomic rename."""
        path = Path(path)
        if path.suffix != ".json":
            path.mkdir(parents=True, exist_ok=True)
            path = path / TOKENIZER_FILE
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.tokenizer.to_str(pretty=True))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "DNABPETokenizer":
        path = Path(path)
        if path.is_dir():
            path = path / TOKENIZER_FILE
        try:
            return cls(Tokenizer.from_str(path.read_text()))
        except Exception as err:  # tokenizers raises a bare Exception on bad JSON
            if isinstance(err, (FileNotFoundError, ValueError)):
                raise
            raise ValueError(f"{path}: not a tokenizer.json ({err})") from None

    # -- use --------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, seq: str | bytes) -> BPEEncoding:
        enc = self.tokenizer.encode(_to_str(seq), add_special_tokens=False)
        return BPEEncoding(
            ids=np.asarray(enc.ids, dtype=np.int64),
            offsets_T2=np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2),
        )

    def encode_batch(self, seqs: Sequence[str | bytes]) -> list[BPEEncoding]:
        encs = self.tokenizer.encode_batch([_to_str(s) for s in seqs], add_special_tokens=False)
        return [
            BPEEncoding(
                np.asarray(e.ids, dtype=np.int64),
                np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2),
            )
            for e in encs
        ]

    def decode(self, ids: Iterable[int]) -> str:
        """Concatenated token strings (specials dropped): the normalized sequence."""
        vocab = self.tokenizer
        out = []
        for i in ids:
            t = vocab.id_to_token(int(i))
            if t is None:
                raise ValueError(f"id {i} outside vocabulary of size {self.vocab_size}")
            if t not in SPECIAL_TOKENS:
                out.append(t)
        return "".join(out)

    def id_to_token(self, i: int) -> str | None:
        return self.tokenizer.id_to_token(i)

    def describe(self) -> dict:
        vocab = self.tokenizer.get_vocab()
        lengths = [len(t) for t in vocab if t not in SPECIAL_TOKENS]
        return {
            "vocab_size": self.vocab_size,
            "max_token_length": max(lengths, default=0),
            "mean_token_length": float(np.mean(lengths)) if lengths else 0.0,
        }


