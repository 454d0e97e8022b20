"""docs/templates.md stays honest: every template variable, field and filter is in it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pytest
from click.testing import Result
from jinja2.sandbox import SandboxedEnvironment

from conftest import REPO
from policybrief import brand, cite, config, curate, models

DOC = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
MENTIONED = set(re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", DOC, flags=re.S)))

MODELS = [models.Brief, models.Source, models.Note, models.CitedText, models.Question,
          models.Section, models.Paragraph, models.Name]
DATACLASSES = [curate.Citation, curate.Endnote, curate.CuratedText, curate.CuratedQuestion,
               curate.CuratedSection, curate.CuratedParagraph, curate.Prose,
               curate.CitationPoint, curate.TimelineEvent,
               cite.FormattedCitations, config.Audience,
               brand.Brand, brand.FontFace]


def _public_properties(cls: type) -> set[str]:
    return {n for n in vars(cls) if not n.startswith("_") and isinstance(vars(cls)[n], property)}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_field_is_documented(model: type[models.BaseModel]) -> None:
    names = {f.alias or n for n, f in model.model_fields.items()} | _public_properties(model)
    if model is models.Source:  # its other CSL variables are listed in docs/sources.md
        own = {f.alias or n for n, f in models._SourceFields.model_fields.items()}
        names -= set(models.CSL_VARIABLES) - own
    assert names <= MENTIONED, f"add to docs/templates.md: {sorted(names - MENTIONED)}"


@pytest.mark.parametrize("cls", DATACLASSES, ids=lambda c: c.__name__)
def test_every_dataclass_field_is_documented(cls: type) -> None:
    names = {f.name for f in dataclasses.fields(cls)} | _public_properties(cls)
    names |= {n for n in vars(cls) if not n.startswith("_") and callable(vars(cls)[n])}
    assert names <= MENTIONED, f"add to docs/templates.md: {sorted(names - MENTIONED)}"


@dataclass
class Seen:
    """What the audience's template saw when a real build rendered it."""

    variables: set[str]  # every name in its context, less Jinja's own globals
    filters: set[str]  # the environment's filters, less Jinja's own


@pytest.fixture
def seen(run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch) -> Seen:
    """Build the minimal project (one target, in this process) and record the context of
    every template rendered: whatever the code passes or adds is in it."""
    recorded: list[Seen] = []
    render = jinja2.Template.render
    jinja = SandboxedEnvironment()

    def recording(self: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        names = set(self.new_context(dict(*args, **kwargs)).get_all())
        recorded.append(Seen(names - set(jinja.globals),
                             set(self.environment.filters) - set(jinja.filters)))
        return render(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", recording)
    result = run("build", "-j1", "--force", "--project", project)
    assert result.exit_code == 0, result.output
    assert recorded, "no template was rendered"
    return Seen(set().union(*(s.variables for s in recorded)),
                set().union(*(s.filters for s in recorded)))


def test_every_template_variable_is_documented(seen: Seen) -> None:
    names = seen.variables | {f.name for f in dataclasses.fields(curate.CuratedBrief)}
    assert {"brief", "citations", "labels"} <= names  # the recording works
    assert names <= MENTIONED, f"add to docs/templates.md: {sorted(names - MENTIONED)}"
    ours = seen.filters
    assert ours and ours <= MENTIONED, f"add to docs/templates.md: {sorted(ours - MENTIONED)}"


def test_every_packaged_template_is_documented() -> None:
    packaged = {p.name for p in (REPO / "src" / "policybrief" / "templates").iterdir()}
    assert packaged <= MENTIONED
