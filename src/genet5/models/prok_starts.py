"""Prokaryotic start classifier: which start codon of an open reading frame is the real one,
from the bases around it and where it sits in its ORF.

The prokaryote decoder's self-trained start model (predict/prokaryote/starts.py) scores a start
by independent parts: the codon, a Shine-Dalgarno class, a position matrix. What those miss is
the interplay: a strong motif at the wrong spacer, a weak motif beside an ATG with nothing else
upstream, a TTG that is real only because no start upstream has any ribosome binding site, the
first codons' composition. This model reads WINDOW bases around a candidate start (UP bases
upstream of the codon, the codon and DOWN - 3 bases downstream) plus a few numbers on its place
in the ORF, and is trained on the `train` prokaryotes and phages of splits.tsv
(scripts/train_start_model.py) to pick the annotated start among the start codons of its ORF
(a softmax over the ORF's candidates). Inputs are made genome-relative: each one-hot base minus
the genome's frequency of that base, so a GC-rich genome's windows are not all "unusual".

Shape: an MLP over the flattened window and the place features; small (~30k weights), because
the decoder scores every candidate start of a genome (E. coli: ~250k) on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genet5.models.configs import register_config, register_model

MODEL_TYPE = "prokaryote-starts"
N_PLACE = 6  # place features (predict/prokaryote/learned_starts.py: place_features)


@register_config
@dataclass
class StartNetConfig:
    up: int = 30  # bases read upstream of the start codon
    down: int = 30  # bases read from the start codon's first base on
    hidden: int = 64
    n_place: int = N_PLACE  # the first n_place place features are read (0: bases only)
    model_type: str = MODEL_TYPE

    @property
    def window(self) -> int:
        return self.up + self.down


class StartNet(nn.Module):
    config_class = StartNetConfig
    description = "prokaryote start classifier"

    def __init__(self, cfg: StartNetConfig):
        super().__init__()
        self.config = cfg
        h = cfg.hidden
        self.mlp = nn.Sequential(
            nn.Linear(4 * cfg.window + cfg.n_place, h), nn.ReLU(),
            nn.Linear(h, h), nn.ReLU(),
            nn.Linear(h, 1),
        )

    @classmethod
    def config_from(cls, config) -> StartNetConfig | None:
        return config if isinstance(config, StartNetConfig) else None

    def forward(self, codes: torch.Tensor, freq: torch.Tensor, place: torch.Tensor) -> torch.Tensor:
        """codes (B, window) base codes (A C G T N = 0..4); freq (B, 4) the genome's base
        frequencies; place (B, n_place) -> (B,) logits (comparable within one ORF only)."""
        x = nn.functional.one_hot(codes.long(), 5)[..., :4].to(torch.float32)
        known = (codes < 4).unsqueeze(-1)
        x = torch.where(known, x - freq.unsqueeze(1), torch.zeros_like(x))  # genome-relative; N reads 0
        return self.mlp(torch.cat([x.flatten(1), place[:, : self.config.n_place]], dim=1)).squeeze(-1)


register_model(MODEL_TYPE, StartNet)
