"""The ``predictor-nas`` command line: one module per command, shared options and one renderer.

``build_parser`` asks each command module to ``register`` its subcommand; ``main`` parses, applies
``--config`` and turns library errors into one line on stderr with exit status 2.
"""

from predictor_nas.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
