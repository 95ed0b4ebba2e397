"""The modules ``setup.py`` compiles with mypyc: what the rules for them are, and that the
installed ones are the compiled builds of the current sources."""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compiled_sources() -> list[Path]:
    """The ``COMPILED`` list of ``setup.py``, read without running it."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "COMPILED" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [ROOT / str(item) for item in value]
    raise AssertionError("setup.py: no COMPILED list")


def module_name(source: Path) -> str:
    return ".".join(source.relative_to(ROOT / "src").with_suffix("").parts)


SOURCES = compiled_sources()


def test_the_compiled_list_names_existing_modules() -> None:
    assert SOURCES, "setup.py compiles nothing"
    for source in SOURCES:
        assert source.is_file(), f"setup.py COMPILED: {source} does not exist"


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_a_compiled_module_defines_no_msgspec_struct(source: Path) -> None:
    # mypyc builds such a class without its class keywords (frozen, kw_only, tag, ...).
    tree = ast.parse(source.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            assert not any("Struct" in base for base in bases), (
                f"{source.name}: class {node.name} derives from {bases}; move it to a module "
                "that is not compiled"
            )


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_the_installed_module_is_the_compiled_build_of_its_source(source: Path) -> None:
    if os.environ.get("SPREADWIRE_PURE") == "1":
        pytest.skip("SPREADWIRE_PURE=1: the package was built without compiling")
    module = importlib.import_module(module_name(source))
    path = Path(str(module.__file__))
    assert path.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), (
        f"{module.__name__} was imported from {path}, not a compiled extension: run `make test`"
        " (it reinstalls when setup.py or a compiled source changes)"
    )
    assert path.stat().st_mtime >= source.stat().st_mtime, (
        f"{path.name} is older than {source.name}: the tests would run stale code; run "
        "`make test` to rebuild it"
    )


def test_build_requirements_are_pinned_as_the_project_pins_them() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pinned = {
        req.split("==")[0]: req
        for req in project["project"]["dependencies"]
        + project["project"]["optional-dependencies"]["dev"]
    }
    for req in project["build-system"]["requires"]:
        name = req.split("==")[0].split(">=")[0]
        if name in pinned:
            assert req == pinned[name], f"build-system.requires {req!r} != {pinned[name]!r}"


def test_no_extension_shadows_a_module_that_is_not_compiled() -> None:
    # an extension left from an earlier build (a module since taken off the list) would be
    # imported instead of the edited source
    compiled = {source.with_suffix("") for source in SOURCES}
    src = ROOT / "src"
    for extension in (src / "spreadwire").rglob("*.so"):
        stem = extension.with_name(extension.name.split(".")[0])
        assert stem in compiled, f"{extension} shadows a module that setup.py does not compile"
