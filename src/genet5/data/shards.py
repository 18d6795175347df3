"""On-disk shards: safetensors files read back by memory map, and the GeneT5 window dataset.

A shard is one ``.safetensors`` file (a standard format: 8-byte little-endian header length,
a JSON header naming each tensor's dtype, shape and byte range, then the raw bytes). We read
the header ourselves and map each tensor with ``np.memmap``, so opening a shard costs nothing
and a sample touches only its own pages; the library's own loaders copy the whole file.

GeneT5 window shards (written by genet5.data.bake) hold, for N windows:

    ids          uint8  (sum of window lengths,)  nucleotide ids (genet5.tokenizers.nucleotide)
    labels       uint8  (same,)                   per-base BaseClass labels
    base_offsets int64  (N+1,)                    window i is ids[base_offsets[i]:base_offsets[i+1]]
    types        uint8  (sum of target lengths,)  decoder target token types (Tok), ending in EOS
    ptrs         int32  (same,)                   pointer targets (base index), -100 = none
    tok_offsets  int64  (N+1,)
    windows      int64  (N, 5)                    seq index, start (1-based), end, strand (+1/-1), genetic code

The header's ``__metadata__`` carries ``seqids`` (JSON list; ``windows[:, 0]`` indexes it),
``species`` and ``format``. On the minus strand the window's bases are the reverse complement
of genome[start..end] and position 0 is genome base ``end``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from genet5.atomic import atomic_write
from genet5.genome.models import GenomeFormatError

SHARD_FORMAT = "genet5-windows-v1"
_DTYPES = {"U8": np.uint8, "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64, "F32": np.float32}
WINDOW_COLUMNS = ("seq", "start", "end", "strand", "genetic_code")


_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """A safetensors file as bytes, byte-for-byte reproducible.

    Written here rather than by the safetensors library, whose header order follows a Rust
    HashMap and so changes from process to process (same data, different checksum). Tensors
    are laid out largest item size first, so every tensor is aligned for its dtype.
    """
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header: dict[str, Any] = {"__metadata__": dict(metadata)} if metadata else {}
    at = 0
    for k in order:
        a = arrays[k]
        if a.dtype not in _NAMES:
            raise ValueError(f"tensor {k}: unsupported dtype {a.dtype}")
        header[k] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [at, at + a.nbytes]}
        at += a.nbytes
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # data starts 8-aligned (the format allows space padding)
    return b"".join([struct.pack("<Q", len(raw)), raw] + [arrays[k].tobytes() for k in order])


def write_safetensors(path: str | os.PathLike, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    """Write atomically; returns the file's sha256 (computed from the bytes written)."""
    data = safetensors_bytes(tensors, metadata)
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def read_header(path: str | os.PathLike) -> tuple[dict[str, Any], int]:
    """(header dict, byte offset where tensor data starts)."""
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise GenomeFormatError(path, None, "not a safetensors shard (file too short)")
        (n,) = struct.unpack("<Q", raw)
        if n > 100_000_000:
            raise GenomeFormatError(path, None, "not a safetensors shard (implausible header length)")
        try:
            header = json.loads(fh.read(n))
        except ValueError:
            raise GenomeFormatError(path, None, "not a safetensors shard (bad JSON header)") from None
    return header, 8 + n


class Shard:
    """Tensors of one safetensors file as read-only memory maps (``shard["ids"]``)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        header, base = read_header(self.path)
        self.metadata: dict[str, str] = header.pop("__metadata__", {}) or {}
        size = self.path.stat().st_size
        self._arrays: dict[str, np.ndarray] = {}
        for name, info in header.items():
            dtype = _DTYPES.get(info["dtype"])
            if dtype is None:
                raise GenomeFormatError(self.path, None, f"tensor {name}: unsupported dtype {info['dtype']}")
            begin, end = info["data_offsets"]
            shape = tuple(info["shape"])
            if base + end > size or end - begin != int(np.prod(shape)) * np.dtype(dtype).itemsize:
                raise GenomeFormatError(self.path, None, f"tensor {name}: byte range does not match the file")
            if end == begin:  # np.memmap refuses empty maps
                self._arrays[name] = np.zeros(shape, dtype)
            else:
                self._arrays[name] = np.memmap(self.path, dtype=dtype, mode="r", offset=base + begin, shape=shape)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self._arrays

    def keys(self):
        return self._arrays.keys()


def load_index(root: str | os.PathLike) -> dict[str, Any]:
    path = Path(root) / "index.json"
    if not Path(root).is_dir():
        raise GenomeFormatError(root, None, "no such directory (give the output directory of `genet5 bake`)")
    if not path.is_file():
        # a bake writes bake_config.json first and index.json last
        if (Path(root) / "bake_config.json").is_file():
            raise GenomeFormatError(path, None, "no index.json: not a finished bake (run the bake again to finish it)")
        raise GenomeFormatError(root, None, "not a bake (no index.json; give the output directory of `genet5 bake`)")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class WindowDataset:
    """GeneT5 training windows from a bake directory, read by memory map.

    ``split``: "train", "valid" or None (all). ``species``: optional list of entry keys.
    Item ``i`` is a dict of numpy arrays::

        input_ids       int64 (L,)   nucleotide ids of the window
        base_labels     int64 (L,)   BaseClass per base
        target_types    int64 (T,)   decoder targets, ending in EOS (decoder inputs = shift_right)
        target_pointers int64 (T,)   base index for boundary tokens, -100 elsewhere
        genetic_code, strand (+1/-1), start, end (1-based genomic), seqid, species

    Shards are opened lazily in each process, so the dataset pickles cheaply into DataLoader
    workers (a pickled np.memmap would copy its whole contents).
    """

    def __init__(self, root: str | os.PathLike, split: str | None = "train", species: list[str] | None = None):
        self.root = Path(root)
        index = load_index(self.root)
        if index.get("format") != SHARD_FORMAT:
            raise GenomeFormatError(self.root / "index.json", None, f"format {index.get('format')!r}, expected {SHARD_FORMAT}")
        if split not in (None, "train", "valid"):
            raise ValueError(f"split must be 'train', 'valid' or None, got {split!r}")
        self.shard_files: list[Path] = []
        self.shard_species: list[str] = []
        counts = []
        for sp in index["species"]:
            if split is not None and sp["split"] != split:
                continue
            if species is not None and sp["key"] not in species:
                continue
            for sh in sp["shards"]:
                self.shard_files.append(self.root / sh["file"])
                self.shard_species.append(sp["key"])
                counts.append(sh["windows"])
        self._cum = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        self._shards: list[Shard | None] = [None] * len(self.shard_files)
        self._seqids: list[list[str] | None] = [None] * len(self.shard_files)

    def __len__(self) -> int:
        return int(self._cum[-1])

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_shards"] = [None] * len(self.shard_files)
        return state

    def shard(self, k: int) -> Shard:
        s = self._shards[k]
        if s is None:
            s = self._shards[k] = Shard(self.shard_files[k])
            self._seqids[k] = json.loads(s.metadata.get("seqids", "[]"))
        return s

    def _locate(self, i: int) -> tuple[int, int]:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"window {i} out of range ({n} windows)")
        k = bisect.bisect_right(self._cum, i) - 1
        return k, i - int(self._cum[k])

    def __getitem__(self, i: int) -> dict[str, Any]:
        k, j = self._locate(int(i))
        s = self.shard(k)
        b0, b1 = s["base_offsets"][j : j + 2]
        t0, t1 = s["tok_offsets"][j : j + 2]
        seq, start, end, strand, code = (int(x) for x in s["windows"][j])
        return {
            "input_ids": s["ids"][b0:b1].astype(np.int64),
            "base_labels": s["labels"][b0:b1].astype(np.int64),
            "target_types": s["types"][t0:t1].astype(np.int64),
            "target_pointers": s["ptrs"][t0:t1].astype(np.int64),
            "genetic_code": code,
            "strand": strand,
            "start": start,
            "end": end,
            "seqid": self._seqids[k][seq],
            "species": self.shard_species[k],
        }

    LENGTH_KEYS = ("input_ids", "base_labels", "target_types", "target_pointers")  # what lengths() knows

    def lengths(self, key: str = "input_ids") -> np.ndarray:
        """Per-window lengths without reading the data (for token-budget batching)."""
        name = {"input_ids": "base_offsets", "base_labels": "base_offsets"}.get(key)
        name = name or {"target_types": "tok_offsets", "target_pointers": "tok_offsets"}.get(key)
        if name is None:
            raise KeyError(f"no length for key {key!r}")
        parts = [np.diff(self.shard(k)[name]) for k in range(len(self.shard_files))]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def verify_bake(root: str | os.PathLike) -> list[str]:
    """Shard files whose sha256 differs from index.json (empty when all are intact)."""
    root = Path(root)
    bad = []
    for sp in load_index(root)["species"]:
        for sh in sp["shards"]:
            path = root / sh["file"]
            if not path.is_file() or sha256_file(path) != sh["sha256"]:
                bad.append(sh["file"])
    return bad
