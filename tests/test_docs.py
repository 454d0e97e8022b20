"""docs/templates.md stays honest: every template variable, field and filter is in it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from jinja2.sandbox import SandboxedEnvironment

from conftest import REPO
from policybrief import brand, cite, config, curate, models
from policybrief.templating import make_environment

DOC = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
MENTIONED = set(re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", DOC, flags=re.S)))

MODELS = [models.Brief, models.Source, models.Note, models.CitedText, models.Question,
          models.Section, models.Name]
DATACLASSES = [curate.Citation, curate.Endnote, curate.CuratedText, curate.CuratedQuestion,
               curate.CuratedSection, curate.CitationPoint, curate.TimelineEvent,
               cite.FormattedCitations, config.Audience,
               brand.Brand, brand.FontFace]


def _public_properties(cls: type) -> set[str]:
    return {n for n in vars(cls) if not n.startswith("_") and isinstance(vars(cls)[n], property)}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_field_is_documented(model: type[models.BaseModel]) -> None:
    names = {f.alias or n for n, f in model.model_fields.items()} | _public_properties(model)
    assert names <= MENTIONED, f"add to docs/templates.md: {sorted(names - MENTIONED)}"


@pytest.mark.parametrize("cls", DATACLASSES, ids=lambda c: c.__name__)
def test_every_dataclass_field_is_documented(cls: type) -> None:
    names = {f.name for f in dataclasses.fields(cls)} | _public_properties(cls)
    names |= {n for n in vars(cls) if not n.startswith("_") and callable(vars(cls)[n])}
    assert names <= MENTIONED, f"add to docs/templates.md: {sorted(names - MENTIONED)}"


def test_every_template_variable_is_documented(project: Path) -> None:
    cfg = config.load_config(project)
    names = {f.name for f in dataclasses.fields(curate.CuratedBrief)}
    names |= {"paper", "brand", "citations", "labels"}
    assert names <= MENTIONED, f"add to docs/templates.md: {sorted(names - MENTIONED)}"
    ours = set(make_environment(cfg).filters) - set(SandboxedEnvironment().filters)
    assert ours and ours <= MENTIONED, f"add to docs/templates.md: {sorted(ours - MENTIONED)}"


def test_every_packaged_template_is_documented() -> None:
    packaged = {p.name for p in (REPO / "src" / "policybrief" / "templates").iterdir()}
    assert packaged <= MENTIONED
