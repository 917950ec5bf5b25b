"""The command line (命令行): ``analysis …`` (``main``), a thin layer over the package's functions;
``realdata`` adds the commands on what the office receives (import-s71, loans, demo-exports)."""

from analysis.cli.main import USER_ERRORS, build_parser, main

__all__ = ["USER_ERRORS", "build_parser", "main"]
