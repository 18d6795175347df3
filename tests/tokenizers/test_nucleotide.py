import numpy as np
import pytest

from genet5.tokenizers.nucleotide import NucleotideTokenizer


def test_published_genos_ids():
    tok = NucleotideTokenizer()
    assert tok.encode("CGTAN").tolist() == [5, 6, 7, 8, 9]
    assert [tok.token_to_id(t) for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]] == [0, 1, 2, 3, 4]
    assert len(tok) == 128 and len(NucleotideTokenizer(256)) == 256


def test_policy_lowercase_iupac_unknown():
    tok = NucleotideTokenizer()
    assert tok.encode("acgtn").tolist() == tok.encode("ACGTN").tolist()
    assert tok.encode("RYSWKMBDHVryswkmbdhv").tolist() == [9] * 20
    assert tok.encode("Uu").tolist() == [7, 7]
    assert tok.encode("-*1 X").tolist() == [1] * 5
    assert tok.encode(b"ACgt").tolist() == [8, 5, 6, 7]  # bytes input too
    assert tok.soft_mask("ACgtN").tolist() == [False, False, True, True, False]


def test_lookup_table_matches_slow_reference():
    tok = NucleotideTokenizer()
    ref = {**{c: i for i, c in enumerate("CGTAN", 5)}, **{c: i for i, c in enumerate("cgtan", 5)}}
    for c in "RYSWKMBDHVryswkmbdhv":
        ref[c] = 9
    ref["U"] = ref["u"] = 7
    all_bytes = bytes(range(256))
    got = tok.encode(all_bytes)
    want = [ref.get(chr(b), 1) for b in range(256)]
    assert got.tolist() == want


def test_decode_roundtrip_and_specials():
    tok = NucleotideTokenizer()
    seq = "ACGTNNACGT" * 3
    assert tok.decode(tok.encode(seq)) == seq
    ids = tok.encode(seq, add_cls=True, add_sep=True)
    assert ids[0] == 2 and ids[-1] == 3
    assert tok.decode(ids) == seq
    assert tok.decode(ids, skip_special_tokens=False) == "[CLS]" + seq + "[SEP]"
    assert tok.decode([8, 50], skip_special_tokens=False) == "A[UNUSED]"
    with pytest.raises(ValueError):
        tok.decode([128])


def test_encode_batch_pads():
    tok = NucleotideTokenizer()
    ids, valid = tok.encode_batch(["ACG", "A"])
    assert ids.tolist() == [[8, 5, 6], [8, 0, 0]]
    assert valid.tolist() == [[True, True, True], [True, False, False]]
    assert ids.dtype == np.int64
