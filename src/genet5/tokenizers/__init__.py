"""DNA tokenizers: single-nucleotide (Genos ids) and BPE with base offsets."""

from genet5.tokenizers.nucleotide import NucleotideTokenizer

__all__ = ["NucleotideTokenizer", "DNABPETokenizer"]


def __getattr__(name):  # BPE pulls in HF tokenizers; import it only when asked for
    if name == "DNABPETokenizer":
        from genet5.tokenizers.bpe import DNABPETokenizer

        return DNABPETokenizer
    raise AttributeError(name)
