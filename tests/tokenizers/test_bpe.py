import gzip
import random

import numpy as np
import pytest

from genet5.tokenizers.bpe import DNABPETokenizer, base_to_token


def _seqs(n=10, length=2000, seed=0):
    rng = random.Random(seed)
    motif = "ATGGCGGCGTAA"  # a repeated motif gives BPE something to merge
    return ["".join(rng.choice("ACGT") for _ in range(length // 2)) + motif * (length // 24) for _ in range(n)]


@pytest.fixture(scope="module")
def tok():
    return DNABPETokenizer.train(_seqs(), vocab_size=120, chunk_size=400)


def test_specials_and_vocab(tok):
    assert [tok.id_to_token(i) for i in range(5)] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert tok.vocab_size == 120
    assert tok.describe()["max_token_length"] > 1  # merges happened


def test_offsets_cover_every_base_exactly_once(tok):
    seq = _seqs(1, 600, seed=3)[0] + "acgtRYU"
    enc = tok.encode(seq)
    assert enc.offsets_T2[0, 0] == 0 and enc.offsets_T2[-1, 1] == len(seq)
    assert (enc.offsets_T2[1:, 0] == enc.offsets_T2[:-1, 1]).all()  # contiguous
    idx = enc.base_to_token(len(seq))
    assert (idx >= 0).all() and (np.diff(idx) >= 0).all()
    # Every token's text equals the normalized bases it covers.
    norm = seq[:-7] + "ACGTNNT"
    for t, (s, e) in zip(enc.ids, enc.offsets_T2):
        assert tok.id_to_token(int(t)) == norm[s:e]
    assert tok.decode(enc.ids) == norm


def test_unknown_characters_become_unk(tok):
    enc = tok.encode("ACGT-ACGT")
    assert 1 in enc.ids.tolist()
    assert base_to_token(enc.offsets_T2, 9)[4] == enc.ids.tolist().index(1)


def test_save_load_roundtrip(tok, tmp_path):
    path = tok.save(tmp_path / "tk")
    assert path.name == "tokenizer.json"
    tok2 = DNABPETokenizer.load(tmp_path / "tk")
    seq = _seqs(1, 500, seed=7)[0]
    assert tok2.encode(seq).ids.tolist() == tok.encode(seq).ids.tolist()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError):
        DNABPETokenizer.load(bad)


def test_cli_train(tmp_path):
    from conftest import invoke

    fa = tmp_path / "x.fa.gz"
    with gzip.open(fa, "wt") as fh:
        for i, s in enumerate(_seqs(4, 1000)):
            fh.write(f">s{i}\n")
            for j in range(0, len(s), 60):
                fh.write(s[j : j + 60] + "\n")
    res = invoke("tokenizer", "train", fa, "--vocab-size", "64", "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert DNABPETokenizer.load(tmp_path / "out").vocab_size == 64
    res = invoke("tokenizer", "train", tmp_path / "missing.fa", "-o", tmp_path / "o2")
    assert res.exit_code != 0
    # -o naming a file that is not a .json: refused before training (was a FileExistsError traceback)
    (tmp_path / "taken").write_text("keep me")
    res = invoke("tokenizer", "train", fa, "--vocab-size", "64", "-o", tmp_path / "taken")
    assert res.exit_code == 2 and "-o " in res.stderr and "exists and is not a directory" in res.stderr, res.output
    assert (tmp_path / "taken").read_text() == "keep me"
