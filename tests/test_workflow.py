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
