"""Neural building blocks shared by GeneT5 and Genos."""

from genet5.nn.alibi import alibi_bias, alibi_slopes
from genet5.nn.attention import Attention, CrossAttention, KVCache, attention_mask, make_kv_caches
from genet5.nn.block import TransformerBlock
from genet5.nn.mlp import SwiGLU
from genet5.nn.moe import MoE, MoEAuxLossAutoScaler, set_aux_loss_scale
from genet5.nn.norms import RMSNorm
from genet5.nn.perceiver import PerceiverCompressor
from genet5.nn.rotary import RotaryEmbedding, positions_from_doc_ids

__all__ = [
    "Attention",
    "CrossAttention",
    "KVCache",
    "MoE",
    "MoEAuxLossAutoScaler",
    "PerceiverCompressor",
    "RMSNorm",
    "RotaryEmbedding",
    "SwiGLU",
    "TransformerBlock",
    "alibi_bias",
    "alibi_slopes",
    "attention_mask",
    "make_kv_caches",
    "positions_from_doc_ids",
    "set_aux_loss_scale",
]
