"""`brief schema`: JSON Schemas of the source, brief and places files, for editors.

An editor with a yaml-language-server (VS Code's YAML extension, Neovim, Helix, ...)
reads the modeline on a file's first line and validates the file while it is typed.
The schemas come from the models, so they accept what `brief check` accepts; what only
the validators can judge (leap days, dates in order, cross-references) stays with
`brief check`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from .models import Brief, Places, Source
from .output import write_atomic

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = "schemas"  # in the project root, beside sources/ and briefs/


@dataclass(frozen=True)
class FileKind:
    """A kind of project file: its model, where it lives, and its schema's file name."""

    name: str
    model: type[BaseModel]
    files: str  # where such files live, relative to the project root
    id_from_file_name: bool  # the loader sets `id` from the file name and refuses `id:`

    @property
    def schema_file(self) -> str:
        """File name of the schema: source.schema.json."""
        return f"{self.name}.schema.json"

    @property
    def modeline(self) -> str:
        """The first-line comment pointing a yaml-language-server at the schema."""
        up = "../" * self.files.count("/")
        return f"# yaml-language-server: $schema={up}{SCHEMA_DIR}/{self.schema_file}"


KINDS = {
    kind.name: kind
    for kind in (
        FileKind("source", Source, "sources/<id>.yaml", id_from_file_name=True),
        FileKind("brief", Brief, "briefs/<id>.yaml", id_from_file_name=True),
        FileKind("places", Places, "places.yaml", id_from_file_name=False),
    )
}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, without titles that only repeat a field's key."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def file_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind of file: source, brief or places."""
    spec = KINDS[kind]
    schema = spec.model.model_json_schema(schema_generator=_Generator)
    if spec.id_from_file_name:
        del schema["properties"]["id"]
        schema["required"].remove("id")
    # No $id: there is no published address, and editors resolve `#/$defs/...` against
    # the file they loaded the schema from.
    return {
        "$schema": DRAFT,
        "title": f"policybrief {spec.name} file ({spec.files})",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def schema_text(kind: str) -> str:
    """The schema as JSON text, as `brief schema KIND` prints and --write writes it."""
    return json.dumps(file_schema(kind), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path, kinds: list[str]) -> list[tuple[Path, bool]]:
    """Write <kind>.schema.json into folder for each kind; (path, changed) for each.

    An unchanged file is left alone, so its timestamp says when the format last changed.
    """
    texts = {folder / KINDS[k].schema_file: schema_text(k).encode("utf-8") for k in kinds}
    written = []
    for path, data in texts.items():
        changed = not (path.is_file() and path.read_bytes() == data)
        if changed:
            write_atomic(path, data)
        written.append((path, changed))
    return written

