"""Build hook: the hot-path modules below are compiled to C extensions with mypyc.

Everything else is declared in ``pyproject.toml``. The compiled modules are ordinary,
type-checked Python (``mypy --strict``); mypyc turns them into native classes and
functions. ``benchmarks/bench_matching.py`` and ``benchmarks/bench_core.py`` measure what
that buys against the same code interpreted (``docs/performance.md``).

Rules for a module in ``COMPILED``: no class deriving from ``msgspec.Struct`` (mypyc drops
its class keywords such as ``frozen`` and ``kw_only``), no monkeypatching of its classes,
exact types at its boundary (mypyc checks them at run time). ``tests/unit/test_build.py``
checks the first rule and that the installed modules are the compiled ones.

``SPREADWIRE_PURE=1`` builds without compiling, for debugging with the sources.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = [
    "src/spreadwire/core/bus.py",
    "src/spreadwire/core/clock.py",
    "src/spreadwire/core/histogram.py",
    "src/spreadwire/venue/book.py",
    "src/spreadwire/risk/engine.py",
    "src/spreadwire/risk/exposure.py",
    "src/spreadwire/risk/gate.py",
    "src/spreadwire/risk/killswitch.py",
    "src/spreadwire/risk/throttle.py",
]

if os.environ.get("SPREADWIRE_PURE") == "1":
    setup()
else:
    from mypyc.build import mypycify

    # One extension per module (no shared group library), optimised like the CPython build.
    setup(ext_modules=mypycify(COMPILED, opt_level="3"))
