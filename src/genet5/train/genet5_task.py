"""GeneT5 on the training engine: batches from baked windows, the loss, validation.

`objective` chooses what is trained:
- "full": token + pointer + per-base losses (the whole encoder-decoder);
- "per_base": the encoder and its per-base head only (models/genet5.GeneT5PerBase; no
  decoder), which is what `genet5 predict` uses, and trains several times faster on a CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from genet5.tokenizers.annotation import IGNORE, Tok, shift_right

PAD_ID = 0  # nucleotide tokenizer [PAD]


def collate_windows(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Pad a list of WindowDataset items into tensors (padding: [PAD] ids, IGNORE labels)."""
    B = len(samples)
    L = max(len(s["input_ids"]) for s in samples)
    T = max(len(s["target_types"]) for s in samples)  # decoder inputs: BOS + targets[:-1]
    ids = np.full((B, L), PAD_ID, np.int64)
    labels = np.full((B, L), IGNORE, np.int64)
    pad = np.ones((B, L), bool)
    dec_types = np.full((B, T), int(Tok.PAD), np.int64)
    dec_ptrs = np.full((B, T), IGNORE, np.int64)
    tgt_types = np.full((B, T), int(Tok.PAD), np.int64)
    tgt_ptrs = np.full((B, T), IGNORE, np.int64)
    for i, s in enumerate(samples):
        n = len(s["input_ids"])
        ids[i, :n] = s["input_ids"]
        labels[i, :n] = s["base_labels"]
        pad[i, :n] = False
        t_types, t_ptrs = list(s["target_types"]), list(s["target_pointers"])
        d_types, d_ptrs = shift_right(t_types, t_ptrs)
        dec_types[i, : len(d_types)] = d_types
        dec_ptrs[i, : len(d_ptrs)] = d_ptrs
        tgt_types[i, : len(t_types)] = t_types
        tgt_ptrs[i, : len(t_ptrs)] = t_ptrs
    return {
        "input_ids": torch.from_numpy(ids),
        "padding_mask": torch.from_numpy(pad),
        "base_labels": torch.from_numpy(labels),
        "dec_types": torch.from_numpy(dec_types),
        "dec_pointers": torch.from_numpy(dec_ptrs),
        "target_types": torch.from_numpy(tgt_types),
        "target_pointers": torch.from_numpy(tgt_ptrs),
        "n_bases": int((~pad).sum()),
    }


def per_base_loss(model, batch: dict[str, Any], *, label_smoothing: float = 0.0):
    """Cross-entropy of the per-base head; `model` is a GeneT5PerBase (possibly DDP-wrapped)."""
    logits = model(batch["input_ids"], batch["padding_mask"]).float()
    labels = batch["base_labels"]
    loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE, label_smoothing=label_smoothing)
    with torch.no_grad():
        valid = labels != IGNORE
        acc = (logits.argmax(-1) == labels)[valid].float().mean()
        coding = valid & (labels >= 1) & (labels <= 3)
        cds_acc = (logits.argmax(-1) == labels)[coding].float().mean() if coding.any() else acc.new_zeros(())
    return loss, {"base_acc": float(acc), "cds_frame_acc": float(cds_acc)}


def full_loss(model, batch: dict[str, Any], *, label_smoothing: float = 0.0):
    """Token + pointer + per-base losses (weights from the model config)."""
    out = model(
        batch["input_ids"],
        batch["dec_types"],
        enc_padding_mask_BS=batch["padding_mask"],
        dec_input_pointers_BT=batch["dec_pointers"],
        target_types_BT=batch["target_types"],
        target_pointers_BT=batch["target_pointers"],
        base_labels_BL=batch["base_labels"],
    )
    return out.loss, {
        "token_loss": float(out.token_loss),
        "pointer_loss": float(out.pointer_loss),
        "aux_loss": float(out.aux_loss),
    }


LOSSES = {"per_base": per_base_loss, "full": full_loss}
# What each objective trains, as the module the training engine wraps (DDP/FSDP sync gradients
# through its forward, and its parameters must be only what gets gradients): per_base the
# encoder and head (GeneT5PerBase, or a GeneT5's encoder and head, shared, not copied).
TRAINED_MODULE = {"per_base": lambda model: model.per_base(), "full": lambda model: model}


def batch_bases(batch: dict[str, Any]) -> float:
    return float(batch["n_bases"])
