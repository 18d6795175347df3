"""The `genet5` command-line app.

Each command group lives in its own module under genet5/cli/ and registers itself on `app`
when imported; `main()` turns every expected failure (bad input, a missing file) into one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

from genet5.cli.app import app, fail  # noqa: F401  (re-exported for command modules)

# Command modules; each adds its commands to `app` on import.
_COMMAND_MODULES = [
    "genet5.cli.genome_cmds",  # stats, eval, convert
    "genet5.cli.predict_cmds",  # predict
    "genet5.cli.plot_cmds",  # plot
    "genet5.cli.train_cmds",  # train
    "genet5.cli.model_cmds",  # info
    "genet5.cli.tokenizer_cmds",  # tokenizer train, tokenizer info
    "genet5.cli.data_cmds",  # bake, lm bake
    "genet5.cli.lm_cmds",  # lm pretrain
]


def _load_commands() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real missing dependency inside the module
                raise


def main() -> None:
    from genet5.genome.models import GenomeFormatError

    _load_commands()
    try:
        app(standalone_mode=False)
    except GenomeFormatError as err:
        fail(str(err))
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        fail(f"{err.filename}: {err.strerror}")
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except SystemExit:
        raise
    except Exception as err:  # click usage errors and friends
        import click

        if isinstance(err, click.exceptions.Abort):
            fail("aborted", code=130)
        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
