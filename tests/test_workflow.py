"""The CI workflow is valid against the GitHub workflow schema (vendored, offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from conftest import REPO
from policybrief.config import load_config


def test_workflow_validates() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows",
         str(REPO / ".github" / "workflows" / "briefs.yml")],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_uses_the_readme_commands() -> None:
    workflow = (REPO / ".github" / "workflows" / "briefs.yml").read_text()
    assert "bash scripts/setup" in workflow and ".venv/bin/pytest" in workflow
    assert '--shard "${{ matrix.shard }}"' in workflow
    assert "build/manifest.json build/SHA256SUMS" in workflow


def _jobs() -> dict[str, Any]:
    workflow = YAML(typ="safe").load((REPO / ".github" / "workflows" / "briefs.yml").read_text())
    return dict(workflow["jobs"])


@pytest.mark.parametrize("job", ["build", "newest"])
def test_the_archive_is_checked_out_where_the_project_setting_points(job: str) -> None:
    """The workflow lays out main/ and shared/seeds as on a developer's machine, so the
    project's `archive` setting finds the texts; the checks never drop --strict."""
    steps = _jobs()[job]["steps"]
    checkouts = [s for s in steps if str(s.get("uses", "")).startswith("actions/checkout")]
    project = Path("/w") / checkouts[0]["with"]["path"]
    archive = Path("/w") / next(s for s in checkouts
                                if "ARCHIVE_REPOSITORY" in str(s))["with"]["path"]
    setting = load_config(REPO).archive
    assert setting is not None
    assert (project / os.path.relpath(setting, REPO)).resolve() == archive
    assert _jobs()[job]["defaults"]["run"]["working-directory"] == checkouts[0]["with"]["path"]
    runs = " ".join(str(s.get("run", "")) for s in steps)
    assert "--archive" not in runs and ("brief check" not in runs or "check --strict" in runs)


def test_a_missing_archive_fails_the_build_job() -> None:
    steps = _jobs()["build"]["steps"]
    names = [s.get("name", "") for s in steps]
    guard = steps[names.index("Require the archive")]
    assert "exit 1" in guard["run"] and "::error" in guard["run"] and "if" not in guard
    setting = load_config(REPO).archive
    assert setting is not None and f"[ ! -d {os.path.relpath(setting, REPO)} ]" in guard["run"]
    assert names.index("Require the archive") < names.index("Test")
    assert "brief check --strict" in steps[names.index("Check the evidence (every quote "
                                                      "against the archive)")]["run"]
    build = next(s["run"] for s in steps if "--shard" in str(s.get("run", "")))
    assert "--strict" in build


def test_ci_checks_the_evidence_strictly() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert ".venv/bin/brief check --strict\n" in script
    assert ".venv/bin/brief build --strict\n" in script and "[ -d" not in script


def test_the_release_job_merges_the_shards_and_does_not_rebuild() -> None:
    workflow = (REPO / ".github" / "workflows" / "briefs.yml").read_text()
    release = workflow[workflow.index("\n  release:\n"):]
    assert "uses: actions/download-artifact@v4" in release
    assert ".venv/bin/brief manifest merge shards/briefs-* --into build" in release
    assert "brief build" not in release
