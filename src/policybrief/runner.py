"""One `brief build` as the command runs it, without its printing: replay the outcome
of an unchanged build (fastpath), or start the PDF process and run build.build.

It sits between cli.py and build.py. build.py (pydantic, Jinja2, the templates) is
imported only when there is something to build, and only after the PDF process has
been forked (prefork.py): a no-op build loads none of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import prefork
from .config import Config
from .errors import BriefError
from .fastpath import Fingerprint

if TYPE_CHECKING:
    from .jobs import Failure, Target

Progress = Callable[[int, int], None]  # called with (done, total) as each target ends


@dataclass
class Outcome:
    """What a build did: targets built, unchanged (by label) and failed. (What `brief
    check` found too: none built, those that passed as unchanged, wrote False.)"""

    built: list[Target]
    unchanged: list[str]
    failed: list[Failure]
    wrote: bool = True

    @property
    def total(self) -> int:
        return len(self.failed) + len(self.built) + len(self.unchanged)

    def error(self) -> BriefError | None:
        """The build's own error if a target failed, of the first failure's class: its
        message if it was the only target, else how many failed."""
        if not self.failed:
            return None
        error = self.failed[0].error
        if self.total == 1:  # the only target: its own message is the error
            return error(self.failed[0].message)
        if len(self.failed) == self.total:
            return error(f"all {self.total} targets failed; nothing was written")
        if not self.wrote:  # `brief check`: nothing is written
            return error(f"{len(self.failed)} of {self.total} targets failed; the "
                         + ("other passed" if self.total - len(self.failed) == 1
                            else "others passed"))
        built, unchanged = len(self.built), len(self.unchanged)
        others = ("the other was" if built + unchanged == 1 else "the others were") + (
            " written" if not unchanged else " unchanged" if not built
            else f" written ({built}) or unchanged ({unchanged})")
        return error(f"{len(self.failed)} of {self.total} targets failed; {others}")


def run_build(
    config: Config, brief_ids: tuple[str, ...], audiences: tuple[str, ...], archival: bool,
    *, jobs: int | None, force: bool, shard: tuple[int, int] | None,
    progress: Callable[[], AbstractContextManager[Progress]],
) -> Outcome:
    """The outcome of a build: replayed if nothing changed since one that succeeded
    (unless force), else built. progress() is entered around a real build only."""
    fingerprint = Fingerprint.of(config, brief_ids, audiences, archival, shard or (1, 1))
    replayed = None if force else fingerprint.replay()
    if replayed is not None:  # nothing changed since a build that succeeded
        return Outcome([], replayed, [])
    try:
        prefork.start()  # imports WeasyPrint meanwhile, in a process of its own
        from .build import build  # the heavy imports, now that the PDF process is forked

        with progress() as advance:
            result = build(config, brief_ids, audiences, archival,
                           jobs=jobs or os.cpu_count() or 1, force=force,
                           shard=shard or (1, 1), progress=advance, fingerprint=fingerprint)
    finally:
        prefork.stop()
    return Outcome(result.built, [j.key for j in result.unchanged], result.failed)
