"""`--domain prokaryote`'s decoder as predict/pipeline.py drives it (registered in
predict/decoders.py): records come in one at a time, reduced to their candidate genes, and
`finish` decodes the whole genome: single mode (the genome teaches itself, decoder.self_train),
meta mode (a shipped parameter set per sequence, meta.py) or a training file's models
(Prodigal's -t, decoder.decode_trained).
"""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import genetic_code
from genet5.genome.models import GenomeFormatError
from genet5.predict.decoders import Decoded, start_codon_set
from genet5.predict.prokaryote.decoder import (_genes, _StrandData, decode_trained, fill_start_features, genome_gc,
                                               prepare_record, self_train, settings_for)
from genet5.predict.prokaryote.threads import single_threaded_blas


class ProkaryoteDecoder:
    """`--domain prokaryote` (predict/decoders.py): each record is reduced to its candidate genes
    as it comes, with the network's evidence summed along each (memory: one record's track at a
    time); `finish` self-trains on the whole genome (single mode) or picks a shipped parameter
    set per sequence (meta mode: --mode meta, or auto below META_BELOW bases)."""

    def __init__(self, cfg, source: str = ""):
        self.cfg, self.source = cfg, source
        self.code, self.starts, self.settings = genetic_code(cfg.genetic_code), start_codon_set(cfg), settings_for(cfg)
        self.uses_track = cfg.use_network
        self.records: list[list[_StrandData]] = []
        self.bases = 0
        # meta mode without -g lets table 4 compete (meta.find_genes_meta_any_code), which reads
        # the sequences again: kept where that may happen
        self.any_code = self.code.id == 11 and cfg.code_from_genome and cfg.training_set is None and cfg.mode != "single"
        self.sequences: list[tuple[str, bytes]] = []
        from genet5.predict.prokaryote.meta import META_BELOW

        self.meta_below = META_BELOW

    def add(self, rec, track: np.ndarray | None) -> None:
        self.bases += len(rec.seq)
        if self.any_code and self.cfg.mode == "auto" and self.bases >= self.meta_below:
            self.any_code, self.sequences = False, []  # single mode after all: nothing is read again
        if self.any_code:
            self.sequences.append((rec.id, rec.seq))
        # the start features wait for finish: a draft's strands get them in packs
        self.records.append(prepare_record(rec.id, rec.seq, self.code, self.starts, self.settings, track, start_features=False))

    def _under_table4(self, i: int) -> list[_StrandData]:
        """Record i prepared again under table 4, with its start features."""
        from dataclasses import replace

        seqid, seq = self.sequences[i]
        return prepare_record(seqid, seq, genetic_code(4), start_codon_set(replace(self.cfg, genetic_code=4)), self.settings)

    def finish(self, on_bases=None) -> Decoded:
        with single_threaded_blas():  # threads.py: numpy's BLAS threads would spin beside ours
            return self._finish(on_bases)

    def _finish(self, on_bases=None) -> Decoded:
        from genet5.predict.prokaryote.meta import META_BELOW, SINGLE_MIN, find_genes_meta, find_genes_meta_any_code

        mode = self.cfg.mode
        fill_start_features(self.records, self.settings.threads)
        if self.cfg.training_set is not None:  # a training file's models (Prodigal's -t), every record
            chosen, scores = decode_trained(self.records, self.settings, self.cfg.training_set.round_models())
            if on_bases is not None:
                on_bases(self.bases)
            genes = [_genes(rec, ch, sc) for rec, ch, sc in zip(self.records, chosen, scores)]
            return Decoded(genes, "training", [self.cfg.training_set.name] * len(genes))
        if mode == "single" and self.bases < SINGLE_MIN:
            raise GenomeFormatError(self.source, None, f"{self.bases:,} bp is too little for a genome to teach itself its gene "
                                    f"statistics (single mode needs >= {SINGLE_MIN:,} bp): use --meta (--mode meta) or --mode auto")
        if mode == "meta" or (mode == "auto" and self.bases < META_BELOW):
            if self.any_code:
                genes, sets, tables = find_genes_meta_any_code(self.records, self._under_table4, self.settings)
                decoded = Decoded(genes, "meta", sets, tables=tables)
            else:
                genes, sets = find_genes_meta(self.records, self.settings, code=self.code.id)
                decoded = Decoded(genes, "meta", sets)
        else:
            # under table 11, does the genome read TGA as tryptophan? Its first gene set says so
            # already, with the chain the first round fits on it (and if not, its genes after
            # that round, as -g auto's one-round decoding does): a table-4 genome is decoded
            # again under table 4 (pipeline.py), so its training under 11 stops there. Asked
            # first on the first gene set since session 38: the same table on every shared
            # genome and 110 pieces of 60-300 kb (docs/benchmarks.md), M. alvi 1.10 -> 0.97 s
            check, evidence = None, []
            if self.code.id == 11 and self.cfg.code_from_genome:
                from genet5.predict.prokaryote.code_choice import count_readthroughs, decide

                def check(chosen, coding) -> bool:
                    evidence.append(decide(*count_readthroughs(self.records, chosen, coding)))
                    return evidence[-1].table == 4

            st = self_train(self.records, self.settings, check)
            decoded = Decoded([_genes(rec, ch, sc) for rec, ch, sc in zip(self.records, st.chosen, st.scores)], "single",
                              code_choice=evidence[-1] if evidence else None)
            if self.cfg.write_training and st.coding is not None:
                from pathlib import Path

                from genet5.predict.prokaryote.meta import ParameterSet

                gc = genome_gc(self.records)
                m = st.models
                decoded.trained = ParameterSet(Path(self.source).name, gc, m.coding, m.starts, self.code.id, m.dicodon,
                                               m.matrix_factor, m.spacing, m.bases)
        if on_bases is not None:  # without the network, the decoding is the work
            on_bases(self.bases)
        return decoded
