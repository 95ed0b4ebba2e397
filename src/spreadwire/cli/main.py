"""The ``spreadwire`` console script: one entry point, one sub-command per job.

Each sub-command lives in its own module under ``spreadwire.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function
taking the parsed namespace and returning the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from spreadwire.cli.stores import one_line
from spreadwire.errors import ConfigError, StoreError

#: Modules under spreadwire.cli that contribute sub-commands, in help order.
COMMAND_MODULES: tuple[str, ...] = ("demo", "events", "projections", "store", "data", "keys")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spreadwire",
        description="Low-latency statistical-arbitrage trading node.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"spreadwire.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except (ConfigError, StoreError) as error:
        # bad input, or a store that cannot be opened or read: one line, no traceback
        parser.exit(2, f"spreadwire {args.command}: error: {one_line(str(error))}\n")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (``| head``): no traceback, and nothing more to write
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
