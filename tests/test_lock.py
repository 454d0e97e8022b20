"""requirements.lock agrees with pyproject.toml, and is what this environment runs.

The lock (written by `bash scripts/lock`) is what scripts/setup and CI install, so the
PDFs do not depend on the day of the install. These tests fail when pyproject.toml gains,
loses or narrows a dependency without the lock being regenerated.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)")
_VIA = "policybrief (pyproject.toml)"  # how uv names the project's dependencies


@dataclass
class Locked:
    version: Version
    hashes: int
    via: list[str]


def read_lock(text: str) -> dict[str, Locked]:
    """Package name -> its pin, hash count and the 'via' lines uv wrote under it."""
    locked: dict[str, Locked] = {}
    current: Locked | None = None
    for line in text.splitlines():
        pin = _PIN.match(line)
        if pin:
            current = Locked(Version(pin.group(3)), 0, [])
            locked[canonicalize_name(pin.group(1))] = current
        elif current is not None and "--hash=sha256:" in line:
            current.hashes += 1
        elif current is not None and line.startswith("    #"):
            via = line.lstrip(" #").removeprefix("via").strip()
            if via:
                current.via.append(via)
    return locked


def declared(pyproject: dict) -> dict[str, list[Requirement]]:
    """Where each requirement comes from: the dependencies, the test group, the backend."""
    def group(name: str) -> list[Requirement]:
        reqs = []
        for item in pyproject["dependency-groups"][name]:
            reqs += group(item["include-group"]) if isinstance(item, dict) else [Requirement(item)]
        return reqs

    return {
        _VIA: [Requirement(r) for r in pyproject["project"]["dependencies"]],
        "policybrief (pyproject.toml:test)": group("test"),
        "build-system.requires (pyproject.toml)": [
            Requirement(r) for r in pyproject["build-system"]["requires"]
        ],
    }


def disagreements(pyproject: dict, locked: dict[str, Locked]) -> list[str]:
    """Every way the lock fails pyproject.toml (empty when they agree)."""
    problems = []
    wanted = declared(pyproject)
    for origin, requirements in wanted.items():
        for req in requirements:
            name = canonicalize_name(req.name)
            if req.marker is not None and not req.marker.evaluate():
                continue
            if name not in locked:
                problems.append(f"{req} ({origin}) is not in the lock")
            elif not req.specifier.contains(locked[name].version, prereleases=True):
                problems.append(f"{req} ({origin}): the lock has {locked[name].version}")
    for name, pin in locked.items():
        if pin.hashes == 0:
            problems.append(f"{name} has no hash")
        origins = [v for v in pin.via if v in wanted]
        parents = {canonicalize_name(v.split(" ")[0]) for v in pin.via if v not in wanted}
        if not origins and not parents & set(locked):
            problems.append(f"{name} is locked but nothing requires it")
        for origin in origins:
            if name not in {canonicalize_name(r.name) for r in wanted[origin]}:
                problems.append(f"{name} is locked for {origin}, which no longer has it")
    return problems


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lock() -> dict[str, Locked]:
    return read_lock((REPO / "requirements.lock").read_text(encoding="utf-8"))


def test_lock_agrees_with_pyproject(pyproject: dict, lock: dict[str, Locked]) -> None:
    assert len(lock) > 40  # the whole tree, not just the direct dependencies
    assert disagreements(pyproject, lock) == []


def test_a_changed_pyproject_is_caught(pyproject: dict, lock: dict[str, Locked]) -> None:
    narrowed = {**pyproject, "project": {**pyproject["project"], "dependencies": [
        *[d for d in pyproject["project"]["dependencies"] if not d.startswith("babel")],
        f"babel>{lock['babel'].version}", "humanize>=4",
    ]}}
    assert disagreements(narrowed, lock) == [
        f"babel>{lock['babel'].version} (policybrief (pyproject.toml)): the lock has "
        f"{lock['babel'].version}",
        "humanize>=4 (policybrief (pyproject.toml)) is not in the lock",
    ]
    dropped = {**pyproject, "project": {**pyproject["project"], "dependencies": [
        d for d in pyproject["project"]["dependencies"] if not d.startswith("watchfiles")
    ]}}
    assert disagreements(dropped, lock) == [
        "watchfiles is locked for policybrief (pyproject.toml), which no longer has it"
    ]


def test_this_environment_runs_the_lock(lock: dict[str, Locked]) -> None:
    """What the suite runs with is what the lock pins (scripts/setup installed it)."""
    installed = {
        canonicalize_name(d.metadata["Name"]): Version(d.version)
        for d in importlib.metadata.distributions()
    }
    differ = {
        name: (str(pin.version), str(installed[name]))
        for name, pin in lock.items() if name in installed and installed[name] != pin.version
    }
    assert differ == {}, "run bash scripts/setup: these differ from requirements.lock (lock, "\
        "installed)"
    for name in ("weasyprint", "babel", "fonttools", "pypandoc-binary", "fontpkg-pt-serif"):
        assert name in installed and name in lock


def test_setup_and_ci_install_from_the_lock() -> None:
    setup = (REPO / "scripts" / "setup").read_text()
    assert "--require-hashes --no-deps -r requirements.lock" in setup
    assert "--no-deps --no-build-isolation -e ." in setup
    workflow = (REPO / ".github" / "workflows" / "briefs.yml").read_text()
    assert workflow.count("bash scripts/setup") >= 1 and "pip install" not in workflow
