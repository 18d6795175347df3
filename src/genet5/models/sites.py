"""Gene-site classifier: is this GT (or GC) a splice donor, is this AG an acceptor, is this ATG
a translation start, from the bases around it.

The eukaryote decoder's self-trained splice matrices see 9 (donor) and 21 (acceptor) bases and
treat positions as independent; a site's neighbourhood says more: the branch point and the
polypyrimidine tract tens of bases upstream of an acceptor, coding on one side and intron on
the other; a start's Kozak context, 5' UTR upstream and coding downstream. This model reads WINDOW bases around each candidate (the candidate site at the
window's centre) and is trained on sites of the `train` eukaryotes of splits.tsv
(scripts/train_site_model.py); the decoder adds its log-odds to the splice edges of the
gene-structure HMM (predict/eukaryote/sites.py).

Shape: a small convolutional trunk shared by every position of a sequence (so a whole strand is
convolved once, not one window at a time), then, per site type, a position-specific readout of
the trunk's features across the window (what a matrix is to bases, over learned features).

Coordinates (oriented sequence, 0-based): a donor at i has its dinucleotide at i, i+1 (the
intron's first bases; the exon ends at i-1); an acceptor at i has its AG at i-2, i-1 (the exon
starts at i); a start at i has its ATG at i, i+1, i+2; a stop at i (optional readout) has its
TAA/TAG/TGA at i, i+1, i+2. Either way the window is bases i - HALF .. i + HALF - 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genet5.models.configs import register_config, register_model

MODEL_TYPE = "gene-sites"
SITE_TYPES = ("donor", "acceptor", "start")
STOP = "stop"  # a fourth readout, where the config asks for it (SiteConfig.stop_readout)


@register_config
@dataclass
class SiteConfig:
    window: int = 160  # bases read around a site (half on each side)
    channels: int = 16  # trunk width
    kernel: int = 9
    layers: int = 2  # trunk convolutions, dilations 1, 2, 4, ...
    hidden: int = 32  # readout hidden units per site type
    # log(positives / negatives) of the training set, per site type: subtracted from the logit
    # so that the score is a log-likelihood ratio, free of the training set's class balance
    prior_logit_donor: float = 0.0
    prior_logit_acceptor: float = 0.0
    prior_logit_start: float = 0.0
    # a readout for stop codons (TAA/TAG/TGA at i .. i+2): is this where the coding sequence
    # ends, or a stop read into an intron, another frame, non-coding sequence? Off in
    # checkpoints trained before it; added to a trained model with its trunk kept
    # (scripts/train_site_model.py --add-stop), so the other three readouts stay as they were
    stop_readout: bool = False
    prior_logit_stop: float = 0.0
    model_type: str = MODEL_TYPE

    @property
    def site_types(self) -> tuple[str, ...]:
        return SITE_TYPES + ((STOP,) if self.stop_readout else ())

    @property
    def half(self) -> int:
        return self.window // 2

    @property
    def margin(self) -> int:
        """Bases the trunk's unpadded convolutions eat on each side."""
        return (self.kernel - 1) // 2 * (2**self.layers - 1)  # layer i (dilation 2^i) eats (k - 1) / 2 x 2^i


class SiteNet(nn.Module):
    config_class = SiteConfig
    description = "gene-site model"

    def __init__(self, cfg: SiteConfig):
        super().__init__()
        self.config = cfg
        c, k = cfg.channels, cfg.kernel
        convs = [nn.Conv1d(5 if i == 0 else c, c, k, dilation=2**i) for i in range(cfg.layers)]
        self.trunk = nn.Sequential(*[m for conv in convs for m in (conv, nn.ReLU())])
        self.readout = nn.ModuleDict({
            t: nn.Sequential(nn.Flatten(), nn.Linear(c * cfg.window, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))
            for t in cfg.site_types
        })

    @classmethod
    def config_from(cls, config) -> SiteConfig | None:
        return config if isinstance(config, SiteConfig) else None

    def features(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, T) base codes (A C G T N = 0..4) -> (B, channels, T - 2 * margin) trunk features;
        column j describes base j + margin."""
        # contiguous: the first convolution's weight gradient from a transposed (strided) one-hot
        # takes oneDNN's slow path (a fine-tune step of 512 windows 1.5x slower); same values
        x = nn.functional.one_hot(codes.long(), 5).to(torch.float32).transpose(1, 2).contiguous()
        return self.trunk(x)

    def read(self, site_type: str, feats: torch.Tensor) -> torch.Tensor:
        """(B, channels, window) features of B windows -> (B,) logits."""
        return self.readout[site_type](feats).squeeze(-1)

    def forward(self, site_type: str, codes: torch.Tensor) -> torch.Tensor:
        """(B, window + 2 * margin) base codes, site at the window's centre -> (B,) logits."""
        return self.read(site_type, self.features(codes))

    def prior_logit(self, site_type: str) -> float:
        return getattr(self.config, f"prior_logit_{site_type}")


register_model(MODEL_TYPE, SiteNet)
