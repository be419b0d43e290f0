"""The two dependency files: requirements.txt is exactly what the Pulumi program needs at run time
(the CLI installs it into the program's venv), for Python 3.10 and later; everything else is in
requirements-dev.txt, which includes it."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from tests.program import ROOT

RUNTIME = ROOT / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"
# What the program imports: pulumi-command and pulumi-docker for the resources, pydantic for the
# configuration contract. The rest of requirements.txt is their dependencies.
TOP_LEVEL = {"pulumi", "pulumi-command", "pulumi-docker", "pydantic"}
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and re.fullmatch(r"[A-Za-z0-9._-]+", name), f"{line}: not pinned"
        assert canonical(name) not in found, f"{name} listed twice in {path.name}"
        found[canonical(name)] = version
    return found


def closure(roots: set[str], python: str) -> set[str]:
    """The installed distributions `roots` need on `python`, following their Requires-Dist."""
    environment = {"python_version": python, "python_full_version": f"{python}.0", "extra": ""}
    needed: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is needed on Python {python} but is not installed here")
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or Marker(str(marker)).evaluate(environment):
                todo.append(canonical(requirement.name))
    return needed


def program_modules() -> set[str]:
    """Top-level modules imported by __main__.py and the federation modules it imports."""
    seen: set[Path] = set()
    external: set[str] = set()
    todo = [ROOT / "__main__.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] not in ("federation", "policy"):
                    external.add(name.split(".")[0])
                    continue
                module = ROOT.joinpath(*name.split("."))
                for candidate in (module.with_suffix(".py"), module / "__init__.py"):
                    if candidate.is_file():
                        todo.append(candidate)
    return {m for m in external if m not in sys.stdlib_module_names and m != "__future__"}


def test_every_requirement_is_pinned_and_dev_includes_the_program():
    runtime, dev = pins(RUNTIME), pins(DEV)
    lines = [
        line for line in DEV.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    ]
    assert lines[0] == "-r requirements.txt"
    assert not set(runtime) & set(dev), "a package pinned in both files"


def test_the_program_imports_only_what_requirements_txt_installs():
    distributions = metadata.packages_distributions()
    imported = {canonical(d) for m in program_modules() for d in distributions.get(m, [m])}
    assert imported <= set(pins(RUNTIME)), imported - set(pins(RUNTIME))
    assert imported == TOP_LEVEL, "a new import: add it (and its dependencies) to requirements.txt"


@pytest.mark.parametrize("python", PYTHONS)
def test_requirements_txt_holds_what_the_program_needs_on_each_python(python):
    missing = closure(TOP_LEVEL, python) - set(pins(RUNTIME))
    assert not missing, f"needed on Python {python}, not in requirements.txt: {sorted(missing)}"


def test_requirements_txt_holds_nothing_the_program_does_not_need():
    needed = set().union(*(closure(TOP_LEVEL, python) for python in PYTHONS))
    extra = set(pins(RUNTIME)) - needed
    assert not extra, f"not needed at run time, move to requirements-dev.txt: {sorted(extra)}"


def test_the_installed_versions_are_the_pinned_ones():
    for name, version in {**pins(RUNTIME), **pins(DEV)}.items():
        assert metadata.version(name) == version, name


TOOLS = ROOT / "requirements-tools.txt"


def doctor_and_plan_modules() -> set[str]:
    """Top-level third-party modules imported by federation/doctor/ and federation/plan/."""
    external: set[str] = set()
    paths = [
        *sorted((ROOT / "federation" / "doctor").glob("*.py")),
        *sorted((ROOT / "federation" / "plan").glob("*.py")),
    ]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                external |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                external.add(node.module.split(".")[0])
    return {
        m
        for m in external
        if m not in sys.stdlib_module_names and m not in ("__future__", "federation")
    }


@pytest.mark.parametrize("python", ("3.10", "3.11"))
def test_the_operator_tools_need_only_the_program_and_the_tools_extra(python):
    # The guide installs requirements.txt (pulumi install) plus requirements-tools.txt, not the
    # dev file, so the doctor and the plan run on Python 3.10.
    distributions = metadata.packages_distributions()
    imported = {canonical(d) for m in doctor_and_plan_modules() for d in distributions.get(m, [m])}
    installed = set(pins(RUNTIME)) | set(pins(TOOLS))
    missing = closure(imported, python) - installed
    assert not missing, (
        f"the doctor/plan need {sorted(missing)}: add them to requirements-tools.txt"
    )
    assert "paramiko" in pins(TOOLS)


def test_the_tools_extra_holds_only_what_the_tools_need_and_agrees_with_dev():
    tools, dev = pins(TOOLS), pins(DEV)
    distributions = metadata.packages_distributions()
    imported = {canonical(d) for m in doctor_and_plan_modules() for d in distributions.get(m, [m])}
    needed = set().union(*(closure(imported, p) for p in PYTHONS)) - set(pins(RUNTIME))
    assert set(tools) == needed, set(tools) ^ needed
    assert all(dev[name] == version for name, version in tools.items()), "pin as in dev"
