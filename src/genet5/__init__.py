"""genet5: deep-learning gene prediction (GeneT5) and genomic language models (Genos)."""

__version__ = "0.1.0"
