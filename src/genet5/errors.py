"""The one base class of the errors a user can fix.

`genet5` (cli/__init__.py) prints any `UserError` as one line, `genet5: error: MESSAGE`, and
exits 2, never with a traceback; library callers can catch it to tell bad input from bugs. Its
kinds, each where it is raised:

- `genome.models.GenomeFormatError`: an input file (FASTA, GFF3/GTF, GenBank, VCF, a manifest
  or a bake) that is unreadable or wrong, naming the file and the line;
- `models.weights.WeightLoadError`: a model directory that is missing, is not a model, holds
  another kind of model, or whose weights do not fit;
- `models.configs.ModelConfigError`: a model configuration that cannot be built (unknown
  preset or model_type, bad fields);
- `train.config.RunConfigError`: a training run's configuration (YAML/JSON, --set overrides).

Each also derives from ValueError, as before there was a common base.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad input, option, configuration or model): one line."""
