"""A build's units of work and their results: a Job (a target to build), the Target it
renders to, or the Failure it ends in. build.py plans the jobs, workers.py runs them,
manifest.py records the targets, runner.py and cli.py report them. Plain data, so that a
job and its result cross the pipe between a worker process and the main process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BriefError
from .output import artifact_key

if TYPE_CHECKING:
    from .pdf import Rendered


@dataclass(frozen=True)
class Job:
    """A target to build: a brief for an audience, with the digest of all it reads."""

    brief_id: str
    audience: str
    archival: bool
    digest: str
    read: tuple[tuple[Path, str], ...] = ()  # the files in the digest, with their hashes
    docx: bool = False  # with its Word edition (word.py)
    web: bool = False  # with its web edition (web.py)

    @property
    def label(self) -> str:
        """'<brief-id>/<audience>', used in messages and as the manifest key."""
        return f"{self.brief_id}/{self.audience}"

    @property
    def key(self) -> str:
        """The target's name in the manifest and its files' stem under build/
        (output.artifact_key): the archival variant's is '<brief-id>/<audience>.pdfa'."""
        return artifact_key(self.brief_id, self.audience, self.archival)


@dataclass(frozen=True)
class Target:
    """One output: a brief rendered for one audience."""

    brief_id: str
    audience: str
    rendered: Rendered
    claims: dict[str, Any]  # the claim map (claims.json) of this target
    seconds: float = 0.0  # time to curate, cite and render
    archival: bool = False  # the PDF/A-3 variant
    docx: bytes | None = None  # the Word edition, when the job asks for one
    web: str | None = None  # the web edition's page, when the job asks for one

    @property
    def key(self) -> str:
        """Its name in the manifest and its files' stem under build/ (see Job.key)."""
        return artifact_key(self.brief_id, self.audience, self.archival)


@dataclass(frozen=True)
class Failure:
    """A target that failed; the others are still written. error is the class of what
    it raised (BudgetError, TemplatingError...), for the build's own error to be one too."""

    job: Job
    message: str
    error: type[BriefError]

    @classmethod
    def of(cls, job: Job, exc: BriefError) -> Failure:
        """The failure of a job that raised exc."""
        return cls(job, exc.format_message(), _error_class(exc))

    @property
    def labelled(self) -> str:
        """The message with the target's label once: a message of a target's own (most
        are) starts with it, and is not given it twice ("failed x/analyst: x/analyst:")."""
        label = self.job.label
        return self.message if self.message.startswith(f"{label}: ") else (
            f"{label}: {self.message}")

    @property
    def exit_code(self) -> int:
        return self.error.exit_code


def _error_class(exc: BriefError) -> type[BriefError]:
    """The errors.py class of exc, which takes just a message (boundary.Refused is
    reported as the PolicyError it is)."""
    return next(c for c in type(exc).__mro__ if c.__module__ == BriefError.__module__)
