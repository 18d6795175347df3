"""GeneT5's configs: the per-base part (encoder + head) and the whole encoder-decoder, with the
named presets (genet5-tiny / -cpu / -small / -1.55b). Kept apart from the modules
(models/genet5.py, which re-exports every name here) so the model file stays readable."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from genet5.models.configs import register_config, register_preset
from genet5.tokenizers.annotation import NUM_BASE_CLASSES, NUM_TOKEN_TYPES

MODEL_TYPE = "genet5"
PER_BASE_MODEL_TYPE = "genet5_per_base"


@register_config
@dataclass
class PerBaseConfig:
    """The encoder and its per-base head: every field `GeneT5PerBase` needs (what `genet5
    predict` runs). GeneT5Config is this plus the compressor and decoder."""

    model_type: str = PER_BASE_MODEL_TYPE
    # encoder ------------------------------------------------------------------------------
    enc_tokens: str = "nucleotide"  # "nucleotide" (Genos ids, one per base) or "bpe"
    enc_vocab_size: int = 128  # 128 for nucleotide (Genos padding), e.g. 4096 for BPE
    enc_dim: int = 768
    enc_layers: int = 12
    enc_heads: int = 12
    enc_kv_heads: int | None = None
    enc_head_dim: int | None = None  # default enc_dim // enc_heads
    enc_ffn_hidden: int = 3072
    enc_window: int | None = 512  # half-width of the bidirectional window; None = dense
    enc_pos: str = "rope"  # "rope" or "alibi" (DNABERT-2)
    enc_rope_base: float = 10000.0
    enc_experts: int = 0  # > 0 only to mirror an MoE Genos checkpoint
    enc_top_k: int = 2
    bpe_max_token_len: int = 32  # offset-within-token embedding size (bpe only)
    # Convolutional stem after the embedding (0 = none): a k-mer front end, as Helixer- and
    # Enformer-style DNA models have, so a small encoder picks up codon statistics quickly.
    enc_conv_kernel: int = 0
    enc_conv_layers: int = 2
    # per-base head ------------------------------------------------------------------------
    n_base_classes: int = NUM_BASE_CLASSES
    norm_eps: float = 1e-6
    init_std: float = 0.02

    def __post_init__(self) -> None:
        if self.enc_tokens not in ("nucleotide", "bpe"):
            raise ValueError(f"enc_tokens must be 'nucleotide' or 'bpe', got {self.enc_tokens!r}")
        if self.enc_pos not in ("rope", "alibi"):
            raise ValueError(f"enc_pos must be 'rope' or 'alibi', got {self.enc_pos!r}")

    def per_base_config(self) -> "PerBaseConfig":
        """The encoder-and-head part of this config, as a config of its own."""
        return PerBaseConfig(**{f.name: getattr(self, f.name) for f in fields(PerBaseConfig) if f.name != "model_type"})


@register_config
@dataclass
class GeneT5Config(PerBaseConfig):
    """Every size knob of GeneT5: the encoder and head (PerBaseConfig), the compressor and the
    decoder. Presets: see ``PRESETS`` (genet5-tiny/-small/-cpu/-1.55b)."""

    model_type: str = MODEL_TYPE
    # Perceiver compressor ----------------------------------------------------------------
    n_latents: int = 1024
    perceiver_layers: int = 2
    perceiver_heads: int = 12
    perceiver_kv_heads: int | None = 3
    perceiver_ffn_hidden: int = 3072
    # decoder ------------------------------------------------------------------------------
    dec_vocab_size: int = 16  # NUM_TOKEN_TYPES (11) padded
    dec_dim: int = 768
    dec_layers: int = 12
    dec_heads: int = 12
    dec_kv_heads: int | None = 3
    dec_ffn_hidden: int = 3072  # per expert when dec_experts > 0
    dec_experts: int = 16
    dec_top_k: int = 2
    dec_rope_base: float = 10000.0
    pointer_dim: int = 256
    # > 0: pointer logits get a learned, query-dependent bias on the signed distance (in log
    # buckets, half each side) from the last pointer so far (none yet: from base -1), so the
    # decoder can say "the next start after the last gene", which q . k alone cannot (the
    # encoder's states are translation-equivariant). 0: off (checkpoints before it).
    pointer_rel_buckets: int = 0
    # Which genes a window's target lists. "both": every gene of the window, each with its
    # strand token, in genomic order. "plus": only the plus-strand genes; the minus genes are
    # the plus genes of the reverse complement, decoded as a second pass
    # (predict.seq2seq.decode_sequence strands="plus_rc"), so the decoder never chooses a strand.
    target_strands: str = "both"
    # losses -------------------------------------------------------------------------------
    token_loss_weight: float = 1.0
    pointer_loss_weight: float = 1.0
    aux_loss_weight: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dec_vocab_size < NUM_TOKEN_TYPES:
            raise ValueError(f"dec_vocab_size must be >= {NUM_TOKEN_TYPES}")
        if self.target_strands not in ("both", "plus"):
            raise ValueError(f"target_strands must be 'both' or 'plus', got {self.target_strands!r}")


PRESETS: dict[str, GeneT5Config] = {
    # The original design: 12+12 layers, 1024 latents, GQA 12/3, 16 experts top-2, ~1.55B.
    "genet5-1.55b": GeneT5Config(),
    # Same, with the DNABERT-2-shaped encoder (BPE 4096, ALiBi, dense attention).
    "genet5-1.55b-dnabert2": GeneT5Config(
        enc_tokens="bpe", enc_vocab_size=4096, enc_pos="alibi", enc_window=None
    ),
    # CPU-friendly, a few M params.
    "genet5-small": GeneT5Config(
        enc_dim=192, enc_layers=4, enc_heads=6, enc_ffn_hidden=512, enc_window=128,
        n_latents=128, perceiver_layers=1, perceiver_heads=6, perceiver_kv_heads=2,
        perceiver_ffn_hidden=512, dec_dim=192, dec_layers=4, dec_heads=6, dec_kv_heads=2,
        dec_ffn_hidden=128, dec_experts=4, pointer_dim=64,
    ),
    # The CPU model that ships: small conv+windowed-attention encoder (fast enough to
    # annotate a bacterial genome on a laptop in minutes), a small decoder.
    "genet5-cpu": GeneT5Config(
        enc_dim=96, enc_layers=3, enc_heads=4, enc_ffn_hidden=256, enc_window=64,
        enc_conv_kernel=9, enc_conv_layers=2,
        n_latents=64, perceiver_layers=1, perceiver_heads=4, perceiver_kv_heads=2,
        perceiver_ffn_hidden=256, dec_dim=96, dec_layers=2, dec_heads=4, dec_kv_heads=2,
        dec_ffn_hidden=128, dec_experts=4, pointer_dim=32,
    ),
    # Tests only.
    "genet5-tiny": GeneT5Config(
        enc_dim=32, enc_layers=2, enc_heads=4, enc_kv_heads=2, enc_ffn_hidden=64, enc_window=16,
        n_latents=8, perceiver_layers=1, perceiver_heads=4, perceiver_kv_heads=2,
        perceiver_ffn_hidden=64, dec_dim=32, dec_layers=2, dec_heads=4, dec_kv_heads=2,
        dec_ffn_hidden=32, dec_experts=4, pointer_dim=16,
    ),
}


for _name, _cfg in PRESETS.items():
    register_preset(_name, _cfg)


def config_with_genos_encoder(genos_cfg, base: GeneT5Config | None = None, **overrides) -> GeneT5Config:
    """A GeneT5Config whose encoder has exactly the layout of a Genos config (for
    ``init_encoder_from_genos``); decoder and compressor come from ``base``."""
    base = base or PRESETS["genet5-1.55b"]
    return replace(
        base, enc_tokens="nucleotide", enc_vocab_size=genos_cfg.vocab_size, enc_dim=genos_cfg.dim,
        enc_layers=genos_cfg.n_layers, enc_heads=genos_cfg.n_heads, enc_kv_heads=genos_cfg.n_kv_heads,
        enc_head_dim=genos_cfg.head_dim,
        enc_ffn_hidden=genos_cfg.expert_hidden if genos_cfg.n_experts else genos_cfg.ffn_hidden,
        enc_experts=genos_cfg.n_experts, enc_top_k=genos_cfg.top_k, enc_pos="rope",
        enc_rope_base=genos_cfg.rope_base, norm_eps=genos_cfg.norm_eps, **overrides,
    )
