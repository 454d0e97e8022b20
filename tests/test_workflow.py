"""The CI workflow is valid against the GitHub workflow schema (vendored, offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO


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


def test_the_release_job_merges_the_shards_and_does_not_rebuild() -> None:
    workflow = (REPO / ".github" / "workflows" / "briefs.yml").read_text()
    release = workflow[workflow.index("\n  release:\n"):]
    assert "uses: actions/download-artifact@v4" in release
    assert ".venv/bin/brief manifest merge shards/briefs-* --into build" in release
    assert "brief build" not in release
