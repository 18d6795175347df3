"""Species priors for the self-training eukaryote decoder: the content chains of the training
eukaryotes' reference genes, mixed into a genome's own chains.

A genome of 0.2 Mb holds too few genes to learn an order-4 coding chain, an intron chain and
UTR chains from its own first-pass genes (AUGUSTUS and Tiberius carry parameters trained on
other genomes instead). Each prior holds, for one training species (shared/genomes/splits.tsv
`train`, built by scripts/make_eukaryote_priors.py from the reference annotation):

    coding  (3, 4^4, 4)  P(base | codon position, 4 bases before) of the spliced CDS
    intron  (4^3, 4)     P(base | 3 bases before) of the introns
    utr5, utr3 (4^3, 4)  the same of the 200 bases before / after each gene, oriented with it

The decoder mixes the chosen species' tables into every fit as `prior_weight`
pseudo-observations per context (CodingModel.fit, ContentModel.fit): a small genome follows the
prior where it has seen few bases, a large one its own counts. The species is the one whose
coding chain best explains the genome's long open reading frames (choose_prior), the way
Prodigal's and MetaGeneAnnotator's meta modes choose a parameter set by the sequence.

Shipped in bundled/eukaryote-priors as safetensors (tables) + JSON (names, orders, sizes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genet5.predict.eukaryote.content import background_counts, periodic_counts
from genet5.predict.prokaryote.coding import contexts
from genet5.predict.prokaryote.orfs import base_codes

BUNDLED = Path(__file__).resolve().parents[2] / "bundled" / "eukaryote-priors"
CODING_ORDER, CONTENT_ORDER = 4, 3


@dataclass
class SpeciesPrior:
    name: str
    coding: np.ndarray  # (3, 4^order, 4) probabilities
    intron: np.ndarray  # (4^3, 4)
    utr5: np.ndarray
    utr3: np.ndarray
    genes: int = 0  # reference genes it was counted from
    coding_bases: int = 0
    single_orf_fraction: float = 0.0  # of the species' genome (density.py): compact (yeast) or intron-rich
    # decoder settings (EukaryoteSettings fields) for genomes this species stands for, as
    # AUGUSTUS's species carry theirs: the human one makes introns dearer (scripts/make_eukaryote_priors.py)
    settings: dict = field(default_factory=dict)

    @property
    def order(self) -> int:
        return int(round(np.log(self.coding.shape[1]) / np.log(4)))


def _normalised(counts: np.ndarray, pseudo: float = 0.5) -> np.ndarray:
    c = counts + pseudo
    return (c / c.sum(axis=-1, keepdims=True)).astype(np.float32)


def build_prior(name: str, cds: list[bytes], introns: list[bytes], utr5: list[bytes], utr3: list[bytes],
                single_orf_fraction: float = 0.0, settings: dict | None = None) -> SpeciesPrior:
    """A species prior from oriented reference sequences (refit.training_set of the reference genes)."""
    return SpeciesPrior(name, _normalised(periodic_counts(cds, CODING_ORDER)),
                        _normalised(background_counts(introns, CONTENT_ORDER)),
                        _normalised(background_counts(utr5, CONTENT_ORDER)),
                        _normalised(background_counts(utr3, CONTENT_ORDER)),
                        genes=len(cds), coding_bases=sum(map(len, cds)), single_orf_fraction=single_orf_fraction,
                        settings=dict(settings or {}))


def save_priors(priors: list[SpeciesPrior], directory: Path) -> None:
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"{p.name}.{part}": getattr(p, part) for p in priors for part in ("coding", "intron", "utr5", "utr3")}
    save_file(tensors, str(directory / "priors.safetensors"))
    doc = {"priors": [{"name": p.name, "coding_order": p.order, "content_order": CONTENT_ORDER, "genes": p.genes,
                       "coding_bases": p.coding_bases, "single_orf_fraction": round(p.single_orf_fraction, 4),
                       "settings": p.settings}
                      for p in priors]}
    (directory / "priors.json").write_text(json.dumps(doc, indent=1) + "\n")


_CACHE: dict[Path, list[SpeciesPrior]] = {}


def load_priors(directory: Path = BUNDLED) -> list[SpeciesPrior]:
    directory = Path(directory)
    if directory not in _CACHE:
        from safetensors.numpy import load_file

        t = load_file(str(directory / "priors.safetensors"))
        doc = json.loads((directory / "priors.json").read_text())
        _CACHE[directory] = [SpeciesPrior(d["name"], t[f"{d['name']}.coding"], t[f"{d['name']}.intron"],
                                          t[f"{d['name']}.utr5"], t[f"{d['name']}.utr3"], d["genes"], d["coding_bases"],
                                          d.get("single_orf_fraction", 0.0), d.get("settings", {}))
                             for d in doc["priors"]]
    return _CACHE[directory]


def coding_loglik(prior: SpeciesPrior, orfs: list[bytes]) -> float:
    """Mean log-probability per base of in-frame oriented ORFs (codon position 0 at their first
    base) under the prior's coding chain."""
    k, logp = prior.order, np.log(prior.coding)
    total, n = 0.0, 0
    for s in orfs:
        codes = base_codes(s)
        ctx, ok = contexts(codes, k)
        phase = np.arange(len(codes)) % 3
        total += float(logp[phase[ok], ctx[ok], codes[ok]].sum())
        n += int(ok.sum())
    return total / max(n, 1)


def choose_prior(priors: list[SpeciesPrior], orfs: list[bytes], name: str = "",
                 density: float | None = None, compact_from: float = 1.0) -> SpeciesPrior | None:
    """The prior named `name`, or else the one whose coding chain gives the genome's long ORFs
    the highest likelihood (None without ORFs), among the species on the genome's side of
    `compact_from` in single-ORF fraction when `density` (the genome's) is given: a compact
    species' intron and UTR chains, learned from a few hundred introns, do not serve an
    intron-rich genome however alike their codon usage."""
    if name:
        known = {p.name: p for p in priors}
        if name not in known:
            raise ValueError(f"no species prior {name!r}; bundled: {', '.join(known)}")
        return known[name]
    if not priors or not orfs:
        return None
    return candidate_priors(priors, orfs, density, compact_from)[0]


def candidate_priors(priors: list[SpeciesPrior], orfs: list[bytes], density: float | None = None,
                     compact_from: float = 1.0, margin: float = 0.0) -> list[SpeciesPrior]:
    """The species on the genome's side of compact_from (see choose_prior) whose coding chain
    gives the long ORFs a mean log-likelihood per base within `margin` of the best, best first
    (none without priors or ORFs)."""
    if not priors or not orfs:
        return []
    if density is not None:
        priors = [p for p in priors if (p.single_orf_fraction >= compact_from) == (density >= compact_from)] or priors
    scored = sorted(((coding_loglik(p, orfs), k) for k, p in enumerate(priors)), reverse=True)
    return [priors[k] for ll, k in scored if ll >= scored[0][0] - margin]

