"""Genos: decoder-only mixture-of-experts language model over DNA tokens.

    tokens -> embedding -> n_layers x [RMSNorm -> GQA causal attention (RoPE base 5e7)
           -> RMSNorm -> top-2 MoE SwiGLU] -> RMSNorm -> untied output projection -> logits

The model knows nothing of parallelism; see genet5.train for FSDP / compile / checkpointing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genet5.models.configs import GenosConfig, ModelConfigError, register_model
from genet5.nn import MoE, RMSNorm, RotaryEmbedding, SwiGLU, TransformerBlock
from genet5.nn.attention import KVCache, make_kv_caches
from genet5.nn.rotary import positions_from_doc_ids


def lm_loss(
    logits_BTV: torch.Tensor, targets_BT: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """Mean next-token cross-entropy with the softmax in fp32 (bf16 logsumexp over a
    vocabulary loses precision), ignoring targets equal to ignore_index."""
    V = logits_BTV.shape[-1]
    return F.cross_entropy(
        logits_BTV.reshape(-1, V).float(), targets_BT.reshape(-1), ignore_index=ignore_index
    )


class Genos(nn.Module):
    config_class = GenosConfig
    description = "Genos language model"  # in load_model's messages

    def __init__(self, config: GenosConfig):
        super().__init__()
        self.config = config
        c = config
        # sizes GenosConfig does not check: 0 layers divides by zero in init_weights, the others
        # fail deep in torch; one ModelConfigError names the field instead
        for name in ("vocab_size", "dim", "n_layers", "expert_hidden" if c.n_experts else "ffn_hidden"):
            if getattr(c, name) < 1:
                raise ModelConfigError(f"{name} must be >= 1, got {getattr(c, name)}")
        if c.n_experts < 0:
            raise ModelConfigError(f"n_experts must be >= 0, got {c.n_experts}")
        self.tok_embeddings = nn.Embedding(c.vocab_size, c.dim)
        self.rotary = RotaryEmbedding(c.resolved_head_dim, base=c.rope_base)  # shared, stateless
        self.layers = nn.ModuleList(
            TransformerBlock(
                c.dim,
                c.n_heads,
                c.n_kv_heads,
                c.expert_hidden if c.n_experts else c.ffn_hidden,
                head_dim=c.head_dim,
                causal=True,
                window=c.window,
                rotary=self.rotary,
                n_experts=c.n_experts,
                top_k=c.top_k,
                aux_loss_coef=c.aux_loss_coef,
                z_loss_coef=c.z_loss_coef,
                norm_eps=c.norm_eps,
            )
            for _ in range(c.n_layers)
        )
        self.norm = RMSNorm(c.dim, c.norm_eps)
        self.output = nn.Linear(c.dim, c.vocab_size, bias=False)
        self.tie_weights()
        self.init_weights()

    def tie_weights(self) -> None:
        if self.config.tie_embeddings:
            self.output.weight = self.tok_embeddings.weight

    @torch.no_grad()
    def init_weights(self) -> None:
        """Normal(0, init_std) everywhere (Megatron init_method_std=0.01); the projections
        that write into the residual stream (attention wo, FFN w2) use std / sqrt(2 * layers)
        (Megatron's scaled output init), so the residual variance does not grow with depth.
        No-op on the meta device."""
        if self.tok_embeddings.weight.is_meta:
            return
        std = self.config.init_std
        out_std = std / (2 * self.config.n_layers) ** 0.5
        nn.init.normal_(self.tok_embeddings.weight, std=std)
        if not self.config.tie_embeddings:
            nn.init.normal_(self.output.weight, std=std)
        for layer in self.layers:
            a = layer.attn
            for w in (a.wq.weight, a.wk.weight, a.wv.weight):
                nn.init.normal_(w, std=std)
            nn.init.normal_(a.wo.weight, std=out_std)
            f = layer.ffn
            if isinstance(f, MoE):
                for w in (f.router.weight, f.w1, f.w3):
                    nn.init.normal_(w, std=std)
                nn.init.normal_(f.w2, std=out_std)
            elif isinstance(f, SwiGLU):
                nn.init.normal_(f.w1.weight, std=std)
                nn.init.normal_(f.w3.weight, std=std)
                nn.init.normal_(f.w2.weight, std=out_std)
            layer.attn_norm.reset_parameters()
            layer.ffn_norm.reset_parameters()
        self.norm.reset_parameters()

    def new_kv_caches(self) -> list[KVCache]:
        return make_kv_caches(self.config.n_layers)

    def hidden_states(
        self,
        input_ids_BT: torch.Tensor,
        *,
        positions: torch.Tensor | None = None,
        doc_ids_BT: torch.Tensor | None = None,
        key_padding_mask_BT: torch.Tensor | None = None,
        kv_caches: list[KVCache] | None = None,
    ) -> torch.Tensor:
        """Final-norm hidden states (B, T, D), e.g. for embeddings or as a GeneT5 encoder."""
        if doc_ids_BT is not None and positions is None:
            positions = positions_from_doc_ids(doc_ids_BT)  # RoPE restarts per document
        h_BTD = self.tok_embeddings(input_ids_BT)
        for i, layer in enumerate(self.layers):
            h_BTD = layer(
                h_BTD,
                positions=positions,
                doc_ids_BT=doc_ids_BT,
                key_padding_mask_BT=key_padding_mask_BT,
                kv_cache=kv_caches[i] if kv_caches is not None else None,
            )
        return self.norm(h_BTD)

    def forward(
        self,
        input_ids_BT: torch.Tensor,
        *,
        positions: torch.Tensor | None = None,
        doc_ids_BT: torch.Tensor | None = None,
        key_padding_mask_BT: torch.Tensor | None = None,
        kv_caches: list[KVCache] | None = None,
    ) -> torch.Tensor:
        """Next-token logits (B, T, V).

        positions: RoPE positions (T,) or (B, T); default arange (after the cache contents),
        or restarting at each document when doc_ids_BT is given.
        doc_ids_BT: packed-sequence document ids; attention never crosses documents.
        key_padding_mask_BT: True marks padding tokens.
        kv_caches: one KVCache per layer (`new_kv_caches()`) for incremental decoding.
        """
        h_BTD = self.hidden_states(
            input_ids_BT,
            positions=positions,
            doc_ids_BT=doc_ids_BT,
            key_padding_mask_BT=key_padding_mask_BT,
            kv_caches=kv_caches,
        )
        return self.output(h_BTD)

    def loss(self, input_ids_BT: torch.Tensor, targets_BT: torch.Tensor, **kwargs) -> torch.Tensor:
        """Forward plus fp32 cross-entropy; targets of -100 are ignored. MoE aux losses are
        not added here: they reach the routers through the autograd hook in MoE."""
        return lm_loss(self(input_ids_BT, **kwargs), targets_BT)

    def moe_stats(self) -> dict[str, torch.Tensor]:
        """Per-layer expert token counts and aux / z losses of the last forward (for logging)."""
        moes = [layer.ffn for layer in self.layers if isinstance(layer.ffn, MoE)]
        if not moes or moes[0].last_expert_counts is None:
            return {}
        return {
            "expert_counts_LE": torch.stack([m.last_expert_counts for m in moes]),
            "aux_loss": torch.stack([m.last_aux_loss for m in moes]).mean(),
            "z_loss": torch.stack([m.last_z_loss for m in moes]).mean(),
        }

    @torch.no_grad()
    def generate(
        self,
        input_ids_BT: torch.Tensor,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        eos_token_id: int | None = None,
        generator: torch.Generator | None = None,
        top_p: float | None = None,
        allowed_token_ids: "list[int] | tuple[int, ...] | None" = None,
        prefill_chunk: int | None = None,
    ) -> torch.Tensor:
        """Sample continuations with the KV cache; temperature 0 means greedy.

        Prompts in a batch must have equal length (no padding). Returns (B, T + new); after a
        sequence emits eos_token_id it keeps emitting it, and generation stops when all have.
        top_k: keep the k most likely tokens; top_p: keep the smallest set of most likely
        tokens whose probability reaches top_p (nucleus sampling; the most likely token is
        always kept, so a tiny top_p is greedy). allowed_token_ids: sample only these ids (e.g.
        the four bases); every other id gets probability 0, greedy included. prefill_chunk:
        feed a long prompt through the cache in chunks of this many tokens (same result, attention
        memory O(chunk * prompt) instead of one pass over the whole prompt).
        """
        if top_p is not None and not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        was_training = self.training
        self.eval()
        caches = self.new_kv_caches()
        T = input_ids_BT.shape[1]
        if T == 0:
            raise ValueError("generate needs a prompt of at least one token")
        step = prefill_chunk if prefill_chunk else max(T, 1)
        for c0 in range(0, T, step):
            logits_BTV = self(input_ids_BT[:, c0 : c0 + step], kv_caches=caches)
        allowed_V = None
        if allowed_token_ids is not None:
            allowed_V = torch.zeros(self.config.vocab_size, dtype=torch.bool, device=input_ids_BT.device)
            allowed_V[torch.as_tensor(list(allowed_token_ids), device=input_ids_BT.device)] = True
        out = [input_ids_BT]
        done_B = torch.zeros(input_ids_BT.shape[0], dtype=torch.bool, device=input_ids_BT.device)
        for _ in range(max_new_tokens):
            logits_BV = logits_BTV[:, -1].float()
            if allowed_V is not None:
                logits_BV = logits_BV.masked_fill(~allowed_V, float("-inf"))
            if temperature == 0:
                next_B = logits_BV.argmax(-1)
            else:
                logits_BV = logits_BV / temperature
                if top_k is not None:
                    kth = logits_BV.topk(min(top_k, logits_BV.shape[-1]), -1).values[:, -1:]
                    logits_BV = logits_BV.masked_fill(logits_BV < kth, float("-inf"))
                if top_p is not None and top_p < 1.0:
                    logits_BV = _nucleus(logits_BV, top_p)
                next_B = torch.multinomial(logits_BV.softmax(-1), 1, generator=generator)[:, 0]
            if eos_token_id is not None:
                next_B = torch.where(done_B, torch.full_like(next_B, eos_token_id), next_B)
                done_B |= next_B == eos_token_id
            out.append(next_B[:, None])
            if eos_token_id is not None and bool(done_B.all()):
                break
            logits_BTV = self(next_B[:, None], kv_caches=caches)
        self.train(was_training)
        return torch.cat(out, dim=1)


def _nucleus(logits_BV: torch.Tensor, top_p: float) -> torch.Tensor:
    """Logits outside the top-p nucleus set to -inf (ties broken by id, like argmax)."""
    sorted_BV, order_BV = torch.sort(logits_BV, dim=-1, descending=True, stable=True)
    probs_BV = sorted_BV.softmax(-1)
    drop_BV = probs_BV.cumsum(-1) - probs_BV >= top_p  # mass before this token already enough
    drop_BV[:, 0] = False
    return logits_BV.masked_fill(torch.zeros_like(drop_BV).scatter(-1, order_BV, drop_BV), float("-inf"))


register_model("genos", Genos)
