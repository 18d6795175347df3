"""The eukaryote decoder of predict/eukaryote/ (`--decoder selftrained`, the eukaryote default)
as a `Decoder` of predict/decoders.py: the genome's sequences are kept as they come, and
`finish` runs the self-training rounds over all of them (the network is not used)."""

from __future__ import annotations

from dataclasses import replace

from genet5.genome.codes import genetic_code
from genet5.predict.decoders import Decoded, start_codon_set


class SelfTrainedDecoder:
    uses_track = False

    def __init__(self, cfg, source: str = ""):
        self.cfg = cfg
        self.records: list[tuple[str, bytes]] = []
        self.masks: list[list[tuple[int, int]]] = []

    def add(self, rec, track=None) -> None:
        self.records.append((rec.id, rec.seq))
        self.masks.append(rec.mask)

    def finish(self, on_bases=None) -> Decoded:
        from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes
        from genet5.predict.eukaryote.pieces import planned_bases

        cfg = self.cfg
        settings = EukaryoteSettings(min_len=cfg.min_gene_length, workers=cfg.workers)
        if cfg.min_score is not None:
            settings = replace(settings, min_score=cfg.min_score, report_min_score=cfg.min_score)
        if cfg.species == "none":
            settings = replace(settings, prior_weight=0.0)
        elif cfg.species != "auto":
            settings = replace(settings, prior_name=cfg.species)
        # progress in genome bases: each pass decodes the genome or its training pieces, so the
        # bases decoded are scaled to end at the genome's length (rescaled if the pieces grow)
        genome = sum(len(seq) for _, seq in self.records)
        scale, shown = genome / max(planned_bases(self.records, settings), 1), 0.0

        def on_record(seqid: str, bases: int) -> None:
            nonlocal shown
            shown += bases * scale
            if on_bases is not None:
                on_bases(bases * scale)

        def on_replan(bases: int) -> None:
            nonlocal scale
            scale = max(genome - shown, 0.0) / max(bases, 1)

        genes, models = find_genes(self.records, genetic_code(cfg.genetic_code), settings, starts=start_codon_set(cfg),
                                   on_record=on_record, masks=self.masks if cfg.softmask else None, on_replan=on_replan)
        mode = ""
        if models.single_orf_fraction is not None:  # which settings the genome's gene density chose
            t = models.compactness
            kind = "intron-rich" if t == 0 else "compact" if t == 1 else f"{t:.0%} compact"
            mode = f"{kind} (single-ORF fraction {models.single_orf_fraction:.2f})"
        if models.prior is not None:
            mode += f"; species prior {models.prior.name}"
        notes = [] if models.lower_case_share is None else [
            f"{models.lower_case_share:.0%} of the genome's A/C/G/T bases are lower case: read as a genome written in "
            "lower case, not soft-masked (as --no-softmask)"]
        return Decoded(genes, mode, notes=notes)
