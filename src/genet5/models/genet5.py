"""GeneT5: DNA window in, gene structures out, with coordinates chosen by a pointer.

    DNA ids --> encoder (windowed bidirectional attention) --> base states h_BLD --+--> aux head
                                                                                   |    (per-base class)
                          Perceiver compressor (n_latents) <-----------------------+
                                     |                                             |
    structural tokens --> decoder (self-attn, cross-attn to latents, MoE) --> token logits
                                                                   \\--> pointer logits over h_BLD

The lesson of the original GeneT5 (coordinates written as digit tokens, exon F1 = 0.0) is
built into the shape of the model: a coordinate is never a token. The decoder emits a token
*type* (tokenizers/annotation.py: GENE_PLUS, CDS_START, DONOR, ...), and for the four boundary
types a pointer: a softmax over the window's bases, scored by dot products of the decoder state
with the base-resolution encoder states. The state at the chosen base is fed back into the next
decoder input, so the decoder sees the DNA it pointed at. The per-base auxiliary head gives the
encoder dense supervision (intergenic / CDS frame 0-2 / intron / UTR).

With a BPE encoder (DNABERT-2 shape, ALiBi), token states are gathered back to bases
(``base_to_token``) and summed with a nucleotide and an offset-within-token embedding, so the
pointer still ranges over single bases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genet5.models.configs import register_model
from genet5.nn.pointer_position import last_pointer, relative_bucket
from genet5.nn.attention import Attention, CrossAttention, KVCache
from genet5.nn.block import TransformerBlock
from genet5.nn.mlp import SwiGLU
from genet5.nn.moe import MoE
from genet5.nn.norms import RMSNorm
from genet5.nn.perceiver import PerceiverCompressor
from genet5.nn.rotary import RotaryEmbedding
from genet5.tokenizers.annotation import IGNORE, Tok

from genet5.models.genet5_config import (  # noqa: F401 (re-exported: callers import them from here)
    MODEL_TYPE,
    PER_BASE_MODEL_TYPE,
    PRESETS,
    GeneT5Config,
    PerBaseConfig,
    config_with_genos_encoder,
)

# -- building blocks ----------------------------------------------------------------------------
class _ConvBlock(nn.Module):
    """Pre-norm residual dilated Conv1d + SiLU over the sequence; padding positions are zeroed
    before the convolution so they never leak into real bases."""

    def __init__(self, dim: int, kernel: int, dilation: int = 1, eps: float = 1e-6):
        super().__init__()
        self.norm = RMSNorm(dim, eps)
        self.conv = nn.Conv1d(dim, dim, kernel, padding=dilation * (kernel // 2), dilation=dilation, bias=False)

    def forward(self, x_BSD: torch.Tensor, padding_mask_BS: torch.Tensor | None = None) -> torch.Tensor:
        h_BSD = self.norm(x_BSD)
        if padding_mask_BS is not None:
            h_BSD = h_BSD.masked_fill(padding_mask_BS.bool()[..., None], 0.0)
        return x_BSD + F.silu(self.conv(h_BSD.transpose(1, 2)).transpose(1, 2))


class DNAEncoder(nn.Module):
    """Bidirectional windowed transformer over DNA tokens; returns base-resolution states.

    Parameter names (embed, layers.i.*, norm) mirror the Genos decoder so a Genos checkpoint
    can initialize it (see ``init_encoder_from_genos``).
    """

    def __init__(self, cfg: PerBaseConfig):
        super().__init__()
        self.cfg = cfg
        head_dim = cfg.enc_head_dim or cfg.enc_dim // cfg.enc_heads
        self.embed = nn.Embedding(cfg.enc_vocab_size, cfg.enc_dim)
        self.rotary = RotaryEmbedding(head_dim, cfg.enc_rope_base) if cfg.enc_pos == "rope" else None
        self.layers = nn.ModuleList(
            TransformerBlock(
                cfg.enc_dim, cfg.enc_heads, cfg.enc_kv_heads, cfg.enc_ffn_hidden,
                head_dim=cfg.enc_head_dim, causal=False,
                window=cfg.enc_window, rotary=self.rotary, use_alibi=cfg.enc_pos == "alibi",
                n_experts=cfg.enc_experts, top_k=cfg.enc_top_k, norm_eps=cfg.norm_eps,
            )
            for _ in range(cfg.enc_layers)
        )
        self.norm = RMSNorm(cfg.enc_dim, cfg.norm_eps)
        self.conv_stem = nn.ModuleList(
            _ConvBlock(cfg.enc_dim, cfg.enc_conv_kernel, dilation=2**i, eps=cfg.norm_eps)
            for i in range(cfg.enc_conv_layers if cfg.enc_conv_kernel else 0)
        )
        if cfg.enc_tokens == "bpe":  # token states -> base states
            self.base_embed = nn.Embedding(16, cfg.enc_dim)  # nucleotide ids (< 10 used)
            self.offset_embed = nn.Embedding(cfg.bpe_max_token_len, cfg.enc_dim)
            self.base_norm = RMSNorm(cfg.enc_dim, cfg.norm_eps)
            self.base_mlp = SwiGLU(cfg.enc_dim, cfg.enc_dim * 2)

    def forward(
        self,
        input_ids_BS: torch.Tensor,
        padding_mask_BS: torch.Tensor | None = None,
        base_ids_BL: torch.Tensor | None = None,
        base_to_token_BL: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Base states (B, L, D). Nucleotide mode: L == S. BPE mode needs base_ids_BL (Genos
        nucleotide ids) and base_to_token_BL (token index of every base, -1 on padding)."""
        x_BSD = self.embed(input_ids_BS)
        for conv in self.conv_stem:
            x_BSD = conv(x_BSD, padding_mask_BS)
        for layer in self.layers:
            x_BSD = layer(x_BSD, key_padding_mask_BT=padding_mask_BS)
        x_BSD = self.norm(x_BSD)
        if self.cfg.enc_tokens == "nucleotide":
            return x_BSD
        if base_ids_BL is None or base_to_token_BL is None:
            raise ValueError("a BPE encoder needs base_ids_BL and base_to_token_BL")
        idx_BL = base_to_token_BL.clamp(min=0)
        h_BLD = torch.gather(x_BSD, 1, idx_BL[..., None].expand(-1, -1, x_BSD.shape[-1]))
        # offset of each base inside its token: position minus the token's first base
        pos_L = torch.arange(idx_BL.shape[1], device=idx_BL.device)
        first_BS = torch.full_like(input_ids_BS, idx_BL.shape[1]).scatter_reduce(
            1, idx_BL, pos_L.expand_as(idx_BL), reduce="amin"
        )
        offset_BL = (pos_L - torch.gather(first_BS, 1, idx_BL)).clamp(0, self.cfg.bpe_max_token_len - 1)
        h_BLD = h_BLD + self.base_embed(base_ids_BL.clamp(0, 15)) + self.offset_embed(offset_BL)
        return h_BLD + self.base_mlp(self.base_norm(h_BLD))


class DecoderBlock(nn.Module):
    """Causal self-attention (GQA, RoPE, KV cache) + cross-attention to latents + MoE FFN."""

    def __init__(self, cfg: GeneT5Config, rotary: RotaryEmbedding):
        super().__init__()
        d = cfg.dec_dim
        self.attn_norm = RMSNorm(d, cfg.norm_eps)
        self.attn = Attention(d, cfg.dec_heads, cfg.dec_kv_heads, causal=True, rotary=rotary)
        self.cross_norm = RMSNorm(d, cfg.norm_eps)
        self.cross_attn = CrossAttention(d, d, cfg.dec_heads, cfg.dec_kv_heads)
        self.ffn_norm = RMSNorm(d, cfg.norm_eps)
        self.ffn = (
            MoE(d, cfg.dec_ffn_hidden, cfg.dec_experts, cfg.dec_top_k)
            if cfg.dec_experts > 0
            else SwiGLU(d, cfg.dec_ffn_hidden)
        )

    def forward(
        self,
        x_BTD: torch.Tensor,
        memory_kv: tuple[torch.Tensor, torch.Tensor],
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        x_BTD = x_BTD + self.attn(self.attn_norm(x_BTD), kv_cache=kv_cache)
        x_BTD = x_BTD + self.cross_attn(self.cross_norm(x_BTD), memory_kv=memory_kv)
        return x_BTD + self.ffn(self.ffn_norm(x_BTD))


@dataclass
class GeneT5Output:
    token_logits_BTV: torch.Tensor
    pointer_logits_BTL: torch.Tensor
    base_logits_BLC: torch.Tensor
    loss: torch.Tensor | None = None
    token_loss: torch.Tensor | None = None
    pointer_loss: torch.Tensor | None = None
    aux_loss: torch.Tensor | None = None
    extras: dict = field(default_factory=dict)


@dataclass
class EncodedWindow:
    """Everything the decoder needs from the encoder, computed once per window."""

    base_BLD: torch.Tensor  # base-resolution encoder states
    base_pad_BL: torch.Tensor  # True = padding base (never a pointer target)
    memory_kv: list[tuple[torch.Tensor, torch.Tensor]]  # per decoder layer, from the latents
    pointer_keys_BLP: torch.Tensor
    base_logits_BLC: torch.Tensor


class GeneT5PerBase(nn.Module):
    """The encoder and its per-base head: DNA ids in, base states and per-base class logits
    out (intergenic / CDS codon position 0-2 / intron / UTR, tokenizers/annotation.BaseClass).

    This is the model `genet5 predict` runs and `genet5 train --objective per_base` trains;
    GeneT5 is this plus the compressor and the decoder, and its encoder runs through the same
    `encode_bases`. Parameter names (encoder.*, aux_head.*) are the same in both, so the
    per-base part of a GeneT5 checkpoint loads into this class (`from_pretrained(GeneT5PerBase,
    dir)`, see `config_from`).
    """

    config_class = PerBaseConfig
    description = "GeneT5 gene model"  # in load_model's messages

    def __init__(self, cfg: PerBaseConfig):
        super().__init__()
        self.config = cfg
        self.encoder = DNAEncoder(cfg)
        self.aux_head = nn.Linear(cfg.enc_dim, cfg.n_base_classes, bias=False)
        self._build_decoder(cfg)
        self.reset_parameters()

    def _build_decoder(self, cfg) -> None:
        """What a subclass adds after the encoder and head (GeneT5: compressor and decoder)."""

    @classmethod
    def config_from(cls, config) -> PerBaseConfig | None:
        """This class's config from the config of a saved model: the encoder-and-head part of
        any GeneT5 config (None: not a model this class can be loaded from)."""
        return config.per_base_config() if isinstance(config, PerBaseConfig) else None

    def per_base(self) -> "GeneT5PerBase":
        """The encoder and per-base head as a model of their own (shared, not copied)."""
        return self

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Normal(0, init_std) for every matrix, ones for norms; no-op on the meta device."""
        if self.aux_head.weight.is_meta:
            return
        std = self.config.init_std
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=std)
            elif isinstance(m, MoE):
                for w in (m.w1, m.w2, m.w3):
                    nn.init.normal_(w, std=std)
            elif isinstance(m, RMSNorm):
                m.reset_parameters()
        for m in self.modules():
            if isinstance(m, PerceiverCompressor):
                nn.init.normal_(m.latents, std=std)

    def encode_bases(
        self,
        input_ids_BS: torch.Tensor,
        padding_mask_BS: torch.Tensor | None = None,
        base_ids_BL: torch.Tensor | None = None,
        base_to_token_BL: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Base-resolution encoder states (B, L, D) and per-base class logits (B, L, C)."""
        base_BLD = self.encoder(input_ids_BS, padding_mask_BS, base_ids_BL, base_to_token_BL)
        return base_BLD, self.aux_head(base_BLD)

    def forward(
        self,
        input_ids_BS: torch.Tensor,
        padding_mask_BS: torch.Tensor | None = None,
        base_ids_BL: torch.Tensor | None = None,
        base_to_token_BL: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Per-base class logits (B, L, C)."""
        return self.encode_bases(input_ids_BS, padding_mask_BS, base_ids_BL, base_to_token_BL)[1]


class _PerBaseView(GeneT5PerBase):
    """GeneT5's encoder and head as a GeneT5PerBase without copying them (GeneT5.per_base)."""

    def __init__(self, model: "GeneT5"):
        nn.Module.__init__(self)
        self.config = model.config.per_base_config()
        self.encoder, self.aux_head = model.encoder, model.aux_head


class GeneT5(GeneT5PerBase):
    """The encoder-decoder: GeneT5PerBase plus a Perceiver compressor and a pointer decoder."""

    config_class = GeneT5Config
    description = "GeneT5 encoder-decoder"

    def _build_decoder(self, cfg: GeneT5Config) -> None:
        self.compressor = PerceiverCompressor(
            cfg.dec_dim, cfg.n_latents, cfg.perceiver_heads, cfg.perceiver_kv_heads,
            cfg.perceiver_layers, cfg.perceiver_ffn_hidden, kv_dim=cfg.enc_dim, norm_eps=cfg.norm_eps,
        )
        self.tok_embed = nn.Embedding(cfg.dec_vocab_size, cfg.dec_dim)
        self.ptr_feedback = nn.Linear(cfg.enc_dim, cfg.dec_dim, bias=False)  # state at last pointer
        self.dec_rotary = RotaryEmbedding(cfg.dec_dim // cfg.dec_heads, cfg.dec_rope_base)
        self.dec_layers = nn.ModuleList(DecoderBlock(cfg, self.dec_rotary) for _ in range(cfg.dec_layers))
        self.dec_norm = RMSNorm(cfg.dec_dim, cfg.norm_eps)
        self.token_head = nn.Linear(cfg.dec_dim, cfg.dec_vocab_size, bias=False)
        self.pointer_query = nn.Linear(cfg.dec_dim, cfg.pointer_dim, bias=False)
        self.pointer_key = nn.Linear(cfg.enc_dim, cfg.pointer_dim, bias=False)
        if cfg.pointer_rel_buckets:
            self.pointer_rel = nn.Linear(cfg.dec_dim, cfg.pointer_rel_buckets)
            nn.init.zeros_(self.pointer_rel.weight)  # starts as the plain pointer
            nn.init.zeros_(self.pointer_rel.bias)

    @classmethod
    def config_from(cls, config) -> GeneT5Config | None:
        return config if isinstance(config, GeneT5Config) else None

    def per_base(self) -> GeneT5PerBase:
        return _PerBaseView(self)

    def parallel_blocks(self) -> list[nn.Module]:
        """What FSDP2 shards block by block (train/distributed.find_blocks): every ModuleList's
        blocks but the decoder's, whose cross-attention memory projections encode() runs outside
        the blocks' forward, where a sharded block's weights are not gathered (left to the root's
        shard, they are gathered with it)."""
        return [b for name, blocks in self.named_modules()
                if isinstance(blocks, nn.ModuleList) and not name.startswith("dec_layers") for b in blocks]  # fmt: skip

    # -- encoder side ----------------------------------------------------------------------
    def encode(
        self,
        enc_input_ids_BS: torch.Tensor,
        enc_padding_mask_BS: torch.Tensor | None = None,
        base_ids_BL: torch.Tensor | None = None,
        base_to_token_BL: torch.Tensor | None = None,
    ) -> EncodedWindow:
        base_BLD, base_logits_BLC = self.encode_bases(enc_input_ids_BS, enc_padding_mask_BS, base_ids_BL, base_to_token_BL)
        if self.config.enc_tokens == "nucleotide":
            base_pad_BL = (
                enc_padding_mask_BS.bool() if enc_padding_mask_BS is not None
                else torch.zeros(base_BLD.shape[:2], dtype=torch.bool, device=base_BLD.device)
            )
        else:
            base_pad_BL = base_to_token_BL < 0
        latents_BND = self.compressor(base_BLD, memory_padding_mask_BS=base_pad_BL)
        memory_kv = [blk.cross_attn.project_memory(latents_BND) for blk in self.dec_layers]
        return EncodedWindow(
            base_BLD=base_BLD,
            base_pad_BL=base_pad_BL,
            memory_kv=memory_kv,
            pointer_keys_BLP=self.pointer_key(base_BLD),
            base_logits_BLC=base_logits_BLC,
        )

    # -- decoder side ----------------------------------------------------------------------
    def decoder_inputs(
        self, enc: EncodedWindow, types_BT: torch.Tensor, pointers_BT: torch.Tensor | None
    ) -> torch.Tensor:
        """Token embedding plus, where the previous step pointed, the state of that base."""
        x_BTD = self.tok_embed(types_BT.clamp(min=0))
        if pointers_BT is not None:
            has_BT = pointers_BT >= 0
            idx_BT = pointers_BT.clamp(0, enc.base_BLD.shape[1] - 1)
            picked_BTD = torch.gather(
                enc.base_BLD, 1, idx_BT[..., None].expand(-1, -1, enc.base_BLD.shape[-1])
            )
            x_BTD = x_BTD + self.ptr_feedback(picked_BTD) * has_BT[..., None].to(x_BTD.dtype)
        return x_BTD

    def decode_step(
        self,
        enc: EncodedWindow,
        types_BT: torch.Tensor,
        pointers_BT: torch.Tensor | None = None,
        kv_caches: list[KVCache] | None = None,
        last_ptr_BT: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token logits (B, T, V) and pointer logits (B, T, L), fp32; padding bases masked.
        ``last_ptr_BT``: the last pointer at or before each input step (-1: none), for
        pointer_rel_buckets; computed from ``pointers_BT`` when not given, which is right only
        when they are the whole prefix (a cached step must pass it)."""
        x_BTD = self.decoder_inputs(enc, types_BT, pointers_BT)
        for i, blk in enumerate(self.dec_layers):
            x_BTD = blk(x_BTD, enc.memory_kv[i], kv_caches[i] if kv_caches is not None else None)
        h_BTD = self.dec_norm(x_BTD)
        token_logits_BTV = self.token_head(h_BTD).float()
        q_BTP = self.pointer_query(h_BTD)
        ptr_BTL = (q_BTP.float() @ enc.pointer_keys_BLP.float().transpose(1, 2)) / math.sqrt(q_BTP.shape[-1])
        if self.config.pointer_rel_buckets:
            if last_ptr_BT is None:
                if kv_caches is not None and types_BT.shape[1] == 1:
                    raise ValueError("a cached decode step with pointer_rel_buckets needs last_ptr_BT")
                last_ptr_BT = last_pointer(pointers_BT if pointers_BT is not None else torch.full_like(types_BT, -1))
            L = ptr_BTL.shape[-1]
            dist_BTL = torch.arange(L, device=ptr_BTL.device)[None, None, :] - last_ptr_BT[..., None]
            bucket_BTL = relative_bucket(dist_BTL, self.config.pointer_rel_buckets)
            ptr_BTL = ptr_BTL + torch.gather(self.pointer_rel(h_BTD).float(), 2, bucket_BTL)
        ptr_BTL = ptr_BTL.masked_fill(enc.base_pad_BL[:, None, :], torch.finfo(torch.float32).min)
        return token_logits_BTV, ptr_BTL

    def forward(
        self,
        enc_input_ids_BS: torch.Tensor,
        dec_input_types_BT: torch.Tensor,
        *,
        enc_padding_mask_BS: torch.Tensor | None = None,
        dec_input_pointers_BT: torch.Tensor | None = None,
        target_types_BT: torch.Tensor | None = None,
        target_pointers_BT: torch.Tensor | None = None,
        base_labels_BL: torch.Tensor | None = None,
        base_ids_BL: torch.Tensor | None = None,
        base_to_token_BL: torch.Tensor | None = None,
    ) -> GeneT5Output:
        """Teacher-forced training forward (see tokenizers/annotation.py for the format).

        Targets use IGNORE (-100) where there is nothing to predict; PAD target types are
        ignored too. Each loss is a mean over its own valid targets (0 when there are none);
        ``loss`` is their weighted sum.
        """
        enc = self.encode(enc_input_ids_BS, enc_padding_mask_BS, base_ids_BL, base_to_token_BL)
        tok_BTV, ptr_BTL = self.decode_step(enc, dec_input_types_BT, dec_input_pointers_BT)
        out = GeneT5Output(tok_BTV, ptr_BTL, enc.base_logits_BLC)
        if target_types_BT is None and target_pointers_BT is None and base_labels_BL is None:
            return out
        cfg = self.config
        zero = tok_BTV.new_zeros(())
        out.token_loss = out.pointer_loss = out.aux_loss = zero
        if target_types_BT is not None:
            tgt = target_types_BT.masked_fill(target_types_BT == Tok.PAD, IGNORE)
            out.token_loss = _mean_ce(tok_BTV, tgt)
        if target_pointers_BT is not None:
            out.pointer_loss = _mean_ce(ptr_BTL, target_pointers_BT)
        if base_labels_BL is not None:
            labels = base_labels_BL.masked_fill(enc.base_pad_BL, IGNORE)
            out.aux_loss = _mean_ce(enc.base_logits_BLC.float(), labels)
        out.loss = (
            cfg.token_loss_weight * out.token_loss
            + cfg.pointer_loss_weight * out.pointer_loss
            + cfg.aux_loss_weight * out.aux_loss
        )
        return out

    def decode_greedy(self, *args, **kwargs):
        """Constrained greedy decoding; see ``genet5.models.genet5_decoding.decode_greedy``."""
        from genet5.models.genet5_decoding import decode_greedy

        return decode_greedy(self, *args, **kwargs)


def _mean_ce(logits_BTC: torch.Tensor, target_BT: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over non-IGNORE targets; 0 (with a graph) when there are none."""
    flat = F.cross_entropy(
        logits_BTC.reshape(-1, logits_BTC.shape[-1]), target_BT.reshape(-1),
        ignore_index=IGNORE, reduction="sum",
    )
    return flat / (target_BT != IGNORE).sum().clamp(min=1)


def count_parameters(cfg: GeneT5Config) -> dict[str, int]:
    """Parameter counts (total, active per token, and by component) on the meta device."""
    from genet5.models.params import count_params

    with torch.device("meta"):
        model = GeneT5(cfg)
    pc = count_params(model)
    counts = {"total": pc.total, "active": pc.active}
    for name, mod in (("encoder", model.encoder), ("compressor", model.compressor), ("decoder", model.dec_layers)):
        counts[name] = sum(p.numel() for p in mod.parameters())
    return counts


_GENOS_ALIASES = {  # Genos top-level module name -> encoder name
    "embed": "embed", "tok_embeddings": "embed", "embed_tokens": "embed", "embedding": "embed",
    "norm": "norm", "final_norm": "norm", "ln_f": "norm",
}


def genos_to_encoder_names(genos_keys, encoder_keys) -> dict[str, str]:
    """Map Genos state-dict keys to encoder keys; the output head and unknown keys are skipped.

    Tolerates a wrapper prefix (``model.``, ``_orig_mod.``) and common embedding/norm names.
    Raises when an encoder block or embedding tensor finds no Genos counterpart.
    """
    encoder_keys = set(encoder_keys)
    mapping: dict[str, str] = {}
    for key in genos_keys:
        parts = key.split(".")
        while parts and parts[0] in ("model", "_orig_mod", "module"):
            parts = parts[1:]
        if not parts:
            continue
        head = _GENOS_ALIASES.get(parts[0], parts[0])
        name = ".".join([head] + parts[1:])
        if name in encoder_keys:
            mapping[key] = name
    wanted = {k for k in encoder_keys if k.startswith(("layers.", "embed.", "norm."))}
    missing = wanted - set(mapping.values())
    if missing:
        raise ValueError(f"Genos checkpoint lacks encoder tensors, e.g. {sorted(missing)[:3]}")
    return mapping


def init_encoder_from_genos(model: GeneT5, genos_state_dict: dict[str, torch.Tensor]) -> list[str]:
    """Copy a Genos checkpoint's embedding, blocks and final norm into ``model.encoder``.

    The GeneT5 encoder uses the same TransformerBlock layout as Genos, so block tensors map
    one to one (``layers.i.*``); the causal Genos weights are reused bidirectionally. Genos's
    output head has no counterpart and is skipped. Shapes must match (build the encoder with
    the Genos dims, heads, experts and vocabulary). Returns the encoder keys that were loaded.
    """
    mapping = genos_to_encoder_names(genos_state_dict.keys(), model.encoder.state_dict().keys())
    target = model.encoder.state_dict()
    for src, dst in mapping.items():
        t = genos_state_dict[src]
        if t.shape != target[dst].shape:
            raise ValueError(f"{src} {tuple(t.shape)} does not fit encoder {dst} {tuple(target[dst].shape)}")
    with torch.no_grad():
        for src, dst in mapping.items():
            target[dst].copy_(genos_state_dict[src])
    return sorted(mapping.values())


register_model(MODEL_TYPE, GeneT5)
register_model(PER_BASE_MODEL_TYPE, GeneT5PerBase)
