"""Build hook: the hot-path modules below are compiled to C extensions with mypyc.

Everything else is declared in ``pyproject.toml``. The compiled modules are ordinary,
type-checked Python (``mypy --strict``); mypyc turns them into native classes and
functions. ``benchmarks/bench_core.py``, ``bench_matching.py`` and ``bench_eventstore.py``
measure what that buys against the same code interpreted, in the same run; the risk gate
was measured against its interpreted build in alternated runs (``docs/performance.md``).

Rules for a module in ``COMPILED``: no class deriving from ``msgspec.Struct`` (mypyc drops
its class keywords such as ``frozen`` and ``kw_only``), no monkeypatching of its classes,
exact types at its boundary (mypyc checks them at run time). ``tests/unit/test_build.py``
checks the first rule and that the installed modules are the compiled ones.

``SPREADWIRE_PURE=1`` builds without compiling, for debugging with the sources.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED = [
    "src/spreadwire/app.py",
    "src/spreadwire/core/bus.py",
    "src/spreadwire/core/clock.py",
    "src/spreadwire/core/histogram.py",
    "src/spreadwire/core/ids.py",
    "src/spreadwire/core/queues.py",
    "src/spreadwire/core/scheduler.py",
    "src/spreadwire/domain/order.py",
    "src/spreadwire/eventstore/planner.py",
    "src/spreadwire/eventstore/streams.py",
    "src/spreadwire/eventstore/writer.py",
    "src/spreadwire/marketdata/book.py",
    "src/spreadwire/marketdata/engine.py",
    "src/spreadwire/oms/book.py",
    "src/spreadwire/oms/inflight.py",
    "src/spreadwire/oms/manager.py",
    "src/spreadwire/oms/stops.py",
    "src/spreadwire/risk/engine.py",
    "src/spreadwire/risk/exposure.py",
    "src/spreadwire/risk/gate.py",
    "src/spreadwire/risk/killswitch.py",
    "src/spreadwire/risk/monitors.py",
    "src/spreadwire/risk/priority.py",
    "src/spreadwire/risk/throttle.py",
    "src/spreadwire/risk/tripwires.py",
    "src/spreadwire/stats/_stream.py",
    "src/spreadwire/stats/rolling.py",
    "src/spreadwire/strategy/engine.py",
    "src/spreadwire/strategy/pairs.py",
    "src/spreadwire/venue/book.py",
    "src/spreadwire/venue/exchange.py",
    "src/spreadwire/venue/link.py",
    "src/spreadwire/venue/listing.py",
    "src/spreadwire/venue/simulator.py",
]


def remove_stale_extensions(keep: list[str]) -> None:
    """An editable install builds the extensions next to the sources, where an extension
    shadows its ``.py``: remove those of modules not compiled by this build, and mypyc's
    shared library (its name changes with the list; this build writes it again)."""
    src = Path(__file__).resolve().parent / "src"
    kept = {Path(path).with_suffix("") for path in keep}
    for extension in src.rglob("*.so"):
        source = extension.relative_to(src.parent).with_name(extension.name.split(".")[0])
        if extension.parent == src or source not in kept:
            extension.unlink()


class BuildExtensions(build_ext):
    """``build_ext`` that first removes the stale extensions (only when it really builds:
    setup.py also runs for metadata, and the shared library must stay until rebuilt)."""

    def run(self) -> None:
        remove_stale_extensions(COMPILED)
        super().run()


if os.environ.get("SPREADWIRE_PURE") == "1":
    remove_stale_extensions([])
    setup()
else:
    from mypyc.build import mypycify

    # One group (a shared library plus a small extension per module): calls and attribute
    # access between the compiled modules are native.
    setup(
        ext_modules=mypycify(COMPILED, opt_level="3"),
        cmdclass={"build_ext": BuildExtensions},
    )
