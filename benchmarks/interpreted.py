"""The interpreted build of a module that ``setup.py`` compiles with mypyc.

``interpreted("spreadwire.venue.book")`` executes ``book.py`` from its source under the
name ``spreadwire.venue.book_interpreted``, so a benchmark can measure the same code
compiled and interpreted in one run. Objects of the two builds do not mix (the compiled
module checks the exact types it is given).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def interpreted(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(name)
    source = Path(spec.origin).with_name(name.rpartition(".")[2] + ".py")
    alias = f"{name}_interpreted"
    loader = importlib.machinery.SourceFileLoader(alias, str(source))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(alias, loader))  # type: ignore[arg-type]
    sys.modules[alias] = module
    loader.exec_module(module)
    return module


def is_compiled(module: ModuleType) -> bool:
    return str(module.__file__).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
