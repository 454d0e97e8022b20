"""The `brief` command: thin Click commands over the pipeline modules.

Heavy modules (pydantic, Jinja2, WeasyPrint) are imported inside the commands, so that
`brief --help` stays fast.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    BriefError,
    Terminated,
    UsageError,
    count,
)

if TYPE_CHECKING:
    from .runner import Outcome

HELP_PROJECT = "Project folder (default: found by walking up from the current folder)."
HELP_STRICT = "Treat warnings, including WeasyPrint's, as errors (for CI)."
HELP_DEBUG = "Show tracebacks for errors."
HELP_AUDIENCE = "Build only this audience (repeatable), e.g. -a executive."
HELP_FORCE = "Replace the project's copy if there is one."
HELP_JOBS = "Render in N worker processes (default: the number of cores)."
HELP_REBUILD = "Rebuild every target, even those whose inputs are unchanged."
HELP_SHARD = "Build only part K of N (e.g. 2/4), for splitting a build across CI machines."
HELP_ARCHIVAL = "Write PDF/A-3 with the claim map and cited sources embedded (else PDF/UA-1)."
HELP_FORMAT = ("Editions to write for every target (repeatable): pdf, docx (the Word "
               "edition, beside the PDF), web (the web edition, <brief>/<audience>/index.html); "
               "overrides the audiences' `formats`.")
HELP_ARCHIVE = "Folder of archived source texts to check quotes against (overrides config)."
HELP_VERBOSE = "Say more (-v: progress, -vv: debug detail such as template origins)."

project_option = click.option(
    "--project", "-p", type=click.Path(file_okay=False, path_type=Path), default=None,
    help=HELP_PROJECT,
)
strict_option = click.option("--strict", is_flag=True, default=None, help=HELP_STRICT)
archive_option = click.option(
    "--archive", type=click.Path(file_okay=False, path_type=Path), default=None,
    help=HELP_ARCHIVE,
)


class _Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING and record.name.startswith("policybrief"):
            return message if record.levelno >= logging.ERROR else f"warning: {message}"
        return message


log = logging.getLogger("policybrief.cli")


def _parse_shard(ctx: click.Context, param: click.Parameter, value: str | None) -> (
    tuple[int, int] | None
):
    if value is None:
        return None
    try:
        k, n = (int(x) for x in value.split("/"))
    except ValueError:
        raise click.BadParameter("write K/N, e.g. 2/4") from None
    if not 1 <= k <= n:
        raise click.BadParameter(f"{value}: K must be between 1 and N")
    return k, n


def _setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Plain())
    root = logging.getLogger("policybrief")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    """-v given before or after the command: the counts add up (`brief -v build -v`)."""
    if value:
        ctx.meta["policybrief.verbose"] = ctx.meta.get("policybrief.verbose", 0) + value
        _setup_logging(ctx.meta["policybrief.verbose"])


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["policybrief.debug"] = True


def _global_options() -> list[click.Parameter]:
    """The group's own options (cli below), accepted after a command's name too:
    `brief build -v` as `brief -v build`."""
    return [
        click.Option(["--debug"], is_flag=True, expose_value=False, callback=_debug,
                     help=HELP_DEBUG),
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_verbose,
                     help=HELP_VERBOSE),
    ]


class BriefCommand(click.Command):
    """Click command that shows the library's usage errors as Click shows its own: with
    the command's usage line, exit code 2. It takes the global options too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(exc.format_message(), ctx) from exc


class BriefGroup(click.Group):
    """Click group that turns errors into messages (tracebacks only with --debug)."""

    command_class = BriefCommand
    group_class = type

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BriefError as exc:
            if ctx.meta.get("policybrief.debug"):
                traceback.print_exc(file=sys.stderr)
            click.echo(f"Error: {exc.format_message()}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            what = "Terminated" if isinstance(exc, Terminated) else "Interrupted"
            click.echo(f"{what}; earlier outputs are intact.", err=True)
            ctx.exit(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED)


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


def _handle_sigterm(ctx: click.Context) -> None:
    """Turn SIGTERM into Terminated for this command, so temporary files are removed and
    earlier outputs kept, as on Ctrl-C (by default SIGTERM ends Python on the spot)."""
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
        ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


@click.group(cls=BriefGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policybrief")
@click.option("--debug", is_flag=True, help=HELP_DEBUG)
@click.option("-v", "--verbose", count=True, help=HELP_VERBOSE)
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """Turn curated, cited source notes into styled PDF policy briefs.

    A project holds sources/*.yaml (source documents and their notes),
    briefs/*.yaml (what each brief says, from which notes) and, optionally,
    templates/ overriding the packaged templates. Outputs go to build/.

    Example: brief build
    """
    ctx.meta["policybrief.debug"] = debug
    ctx.meta["policybrief.verbose"] = verbose
    _setup_logging(verbose)
    _handle_sigterm(ctx)


@cli.command()
@click.argument("brief_ids", nargs=-1)
@click.option("--audience", "-a", "audiences", multiple=True, help=HELP_AUDIENCE)
@project_option
@strict_option
@archive_option
@click.option("--archival", is_flag=True, help=HELP_ARCHIVAL)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help=HELP_JOBS)
@click.option("--force", is_flag=True, help=HELP_REBUILD)
@click.option("--shard", callback=_parse_shard, default=None, help=HELP_SHARD)
@click.option("--format", "formats", multiple=True,  # config.FORMATS
              type=click.Choice(["pdf", "docx", "web"]), help=HELP_FORMAT)
def build(
    brief_ids: tuple[str, ...], audiences: tuple[str, ...], project: Path | None,
    strict: bool | None, archive: Path | None, archival: bool, jobs: int | None, force: bool,
    shard: tuple[int, int] | None, formats: tuple[str, ...],
) -> None:
    """Build PDFs (and HTML) for every brief, or only BRIEF_IDS.

    Each brief is built for every audience it lists (narrow with -a). Everything is
    read and validated before anything is written; targets whose inputs are unchanged
    are skipped (--force rebuilds them), the rest render in -j worker processes.
    Outputs go to build/<brief-id>/<audience>.pdf and .html, listed with their hashes
    in build/manifest.json and build/SHA256SUMS. PDFs are tagged PDF/UA-1; --archival
    (or `archival = true` in an audience's profile) writes PDF/A-3 with the evidence
    embedded instead. --format docx (or `formats = ["pdf", "docx"]` in an audience's
    profile) writes the Word edition beside the PDF: build/<brief-id>/<audience>.docx;
    --format web the web edition, build/<brief-id>/<audience>/index.html, with
    build/index.html listing every brief (open it in a browser, or run `brief preview`).

    Example: brief build water-2025 --strict
    """
    from .config import load_config
    from .runner import run_build

    config = load_config(project, strict=strict, archive=archive, formats=formats or None)
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    outcome = run_build(config, brief_ids, audiences, archival, jobs=jobs, force=force,
                        shard=shard, progress=lambda: _progress_bar(interactive))
    _print_outcome(outcome, config.build_dir.relative_to(config.root), interactive)


@contextmanager
def _progress_bar(interactive: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, for people (hidden when not interactive)."""
    with click.progressbar(length=1, label="building", file=sys.stderr,
                           hidden=not interactive) as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        yield advance


def _print_outcome(outcome: Outcome, build_dir: Path, interactive: bool) -> None:
    """What `brief build` did: built and unchanged targets on stdout, a closing table
    for people and the failures on stderr; raises the build's error if any failed."""
    for target in outcome.built:
        word = f" and {build_dir}/{target.key}.docx" if target.docx is not None else ""
        if target.web is not None:
            word += f" and {build_dir}/{target.key}/index.html"
        click.echo(f"built {build_dir}/{target.key}.pdf "
                   f"({count(target.rendered.pages, 'page')}){word}")
    if interactive or log.isEnabledFor(logging.INFO):  # a closing table, for people
        rows = [(t.key, "built", f"{t.seconds:.1f} s")
                for t in outcome.built]
        rows += [(label, "unchanged", "") for label in outcome.unchanged]
        rows += [(f.job.label, "failed", "") for f in outcome.failed]
        width = max((len(r[0]) for r in rows), default=0)
        for name, status, seconds in sorted(rows):
            click.echo(f"  {name:<{width}}  {status:<9}  {seconds}", err=True)
    for label in outcome.unchanged:
        click.echo(f"unchanged {build_dir}/{label}.pdf")
    _raise_failures(outcome)


def _raise_failures(outcome: Outcome) -> None:
    """The failures on stderr, if more than one target; raises the outcome's error."""
    error = outcome.error()
    if error is None:
        return
    if outcome.total > 1:
        for failure in outcome.failed:
            click.echo(f"failed {failure.labelled}", err=True)
    raise error


@cli.command()
@project_option
@strict_option
@archive_option
def check(project: Path | None, strict: bool | None, archive: Path | None) -> None:
    """Run every check of a build but the layout; write nothing.

    Validates sources and briefs and checks the evidence, then prepares every target as
    `brief build` does up to layout: its templates compiled and rendered to HTML, its
    citations formatted in the citation style, its sections counted against the word
    budget. Page budgets and the checks on laid-out pages need the layout: only
    `brief build` runs those. An error exits as the build's would. Warnings (quotes not
    found in the archived source texts, sources never cited, key messages or
    recommendations citing no notes, place names wrong for a note's date, stale sources,
    sections over their word budget) are errors under --strict.

    Example: brief check --strict --archive ../archive
    """
    from .build import check_targets
    from .config import load_config
    from .runner import Outcome

    config = load_config(project, strict=strict, archive=archive)
    checked = check_targets(config, jobs=os.cpu_count() or 1)
    _raise_failures(Outcome([], [j.label for j in checked.passed], checked.failed,
                            wrote=False))
    loaded, problems = checked.project, checked.problems
    notes = sum(len(e.model.notes) for e in loaded.sources.values())
    click.echo(
        f"ok: {count(len(loaded.sources), 'source')}, {count(notes, 'note')}, "
        f"{count(len(loaded.briefs), 'brief')}"
        + (f", {count(len(problems), 'warning')}" if problems else "")
    )


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new project in DIRECTORY that builds at once.

    It holds policybrief.toml, an example source and brief, and templates/ with a
    brand file and logo to edit.

    Example: brief init water-briefs && cd water-briefs && brief build
    """
    from .scaffold import init_project

    made = init_project(directory)
    for path in made:
        click.echo(f"created {path}")
    click.echo(f"next: cd {directory} && brief build")


@cli.group()
def templates() -> None:
    """List the templates a build uses, or copy a default into templates/ to edit.

    Example: brief templates list
    """


@templates.command("list")
@project_option
def templates_list(project: Path | None) -> None:
    """Show every template and the folder that supplies it.

    Example: brief templates list
    """
    from .config import load_config
    from .templating import list_templates

    config = load_config(project)
    for info in list_templates(config):
        note = "  (overrides the package default)" if info.overrides_default else ""
        click.echo(f"{info.name:<26} {info.where:<8} {info.path}{note}")


@templates.command("eject")
@click.argument("name")
@click.option("--force", is_flag=True, help=HELP_FORCE)
@project_option
def templates_eject(name: str, force: bool, project: Path | None) -> None:
    """Copy the packaged template NAME into the project's templates/ for editing.

    Example: brief templates eject executive.html.j2
    """
    from .config import load_config
    from .templating import eject_template

    config = load_config(project)
    path = eject_template(config, name, force)
    click.echo(f"copied {name} to {path}; it now overrides the package default")


@cli.group()
def sources() -> None:
    """Work with source files.

    Example: brief sources import zotero-export.json
    """


@sources.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help=HELP_FORCE)
@project_option
def sources_import(file: Path, force: bool, project: Path | None) -> None:
    """Turn a CSL-JSON export (as Zotero writes it) into sources/<id>.yaml skeletons.

    Bibliographic fields carry over; you add the perspective, the assessment and the
    notes.

    Example: brief sources import zotero-export.json
    """
    from .config import load_config
    from .importer import import_csl

    config = load_config(project)
    for path, note in import_csl(config, file, force):
        click.echo(f"created {path.relative_to(config.root)}" + (f" ({note})" if note else ""))


@cli.command()
@project_option
@archive_option
def watch(project: Path | None, archive: Path | None) -> None:
    """Rebuild the targets a change affects, each time sources, briefs, templates or
    the config change. Errors are shown and watching goes on.

    Example: brief watch
    """
    from .watch import watch as run_watch

    def echo(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # line by line, also when piped to a log

    run_watch(project, archive, echo)


@cli.command()
@project_option
@archive_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port to serve on; 0 picks a free one (the address is printed).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to serve on; only a loopback address unless --allow-remote.")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host other machines can reach (they could read every brief).")
def preview(project: Path | None, archive: Path | None, port: int, host: str,
            allow_remote: bool) -> None:
    """Build the web editions and serve build/ in your browser on this machine; rebuild
    on every change, reload the open pages, and show a failed build's error in them.

    Serves http://127.0.0.1:8000/ (build/index.html lists every brief) until Ctrl-C.
    Builds the PDFs and web editions (not the Word editions) of every target.

    Example: brief preview --port 8080
    """
    from .preview import preview as run_preview

    def echo(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # line by line, also when piped to a log

    run_preview(project, archive, host, port, allow_remote, echo)


HELP_INTO = ("The folder to merge into (default: build/ of the project found from the "
             "current folder, or of --project). It must not hold another build's manifest, "
             "unless it is one of the folders merged, nor be reached through a link out "
             "of the project (or of the current folder, if inside it).")


@cli.group()
def manifest() -> None:
    """Work with build manifests (build/manifest.json): merge the builds of CI shards.

    Example: brief manifest merge shards/* --into build
    """


@manifest.command("merge")
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--into", "-o", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help=HELP_INTO)
@project_option
def manifest_merge(folders: tuple[Path, ...], into: Path | None, project: Path | None) -> None:
    """Merge the build folders of `brief build --shard K/N` into one.

    Copies each shard's PDFs, HTML and claims.json into one folder and writes one
    manifest.json and SHA256SUMS, the same as one full build writes: no rendering.
    Every folder is checked first, and nothing is written if any check fails: each
    needs a manifest.json, all from the same policybrief and library versions; no
    target may be in two folders; every listed file must be there, and every PDF and
    claims.json match its recorded sha256. Each brief's claims.json comes from its
    analyst (footnotes) target, wherever that was built, as in a full build.

    Example: brief manifest merge shards/briefs-0 shards/briefs-1 --into build
    """
    from .config import load_config
    from .errors import ConfigError
    from .merge import merge_builds

    config = None
    if into is None or project is not None:
        config = load_config(project)
    else:  # the project around, if any: its brand and templates make the web files
        try:
            config = load_config(None)
        except ConfigError:
            pass
    if into is None:
        assert config is not None
        into, within = config.build_dir, (config.root, "the project")
    elif Path(os.path.abspath(into)).is_relative_to(Path.cwd()):
        within = (Path.cwd(), "the current folder")
    else:
        within = (into, str(into))
    merged = merge_builds(list(folders), into, within, config)
    for pdf, folder in merged.pdfs:
        click.echo(f"merged {merged.into / pdf} from {folder}")


HELP_DIFF_JSON = "Print the changes as JSON (for tools), not as text."
HELP_DIFF_PDF = "Also write the redline of the brief as a PDF for the clearer."
HELP_DIFF_HTML = "Also write the redline of the brief as an HTML file."
HELP_EXIT_CODE = "Exit with 1 when anything changed, 0 when nothing did (as git diff)."


@cli.command("diff")
@click.argument("versions", nargs=-1, required=True, metavar="OLD [NEW] [BRIEF_ID]...")
@click.option("--json", "as_json", is_flag=True, help=HELP_DIFF_JSON)
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help=HELP_DIFF_PDF)
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help=HELP_DIFF_HTML)
@click.option("--exit-code", is_flag=True, help=HELP_EXIT_CODE)
@project_option
def diff_command(versions: tuple[str, ...], as_json: bool, pdf: Path | None,
                 html: Path | None, exit_code: bool, project: Path | None) -> None:
    """Show what changed in the briefs between two versions of the project.

    OLD and NEW are each a git revision of this project (HEAD~1, a tag, a commit; read
    with git itself, the working tree untouched) or a project folder; NEW defaults to
    the working folder (`.` names it). An argument after OLD that is neither a folder
    nor a revision is a brief id; without brief ids every brief is compared. The
    curated content is compared, not the PDFs: document fields (status, marking,
    version...), key messages, recommendations, section titles, leads and numbered
    paragraphs, lines to take, questions, and every cited note by its id (added,
    removed, its text, quote or locator changed), with the sources cited (added,
    removed, re-assessed). Changed text is shown word by word.

    --pdf or --html writes the redline of one brief, on its brand and in its language.

    Example: brief diff v0.3 HEAD water-talks --pdf redline.pdf
    """
    from contextlib import ExitStack

    from . import diff
    from .config import find_project

    root = find_project(project or Path.cwd())[0].parent
    old_spec, new_spec, brief_ids = diff.split_arguments(versions, root)
    with ExitStack() as stack:
        old = diff.open_version(old_spec, root, "OLD", stack)
        new = diff.open_version(new_spec, root, "NEW", stack)
        diffs = diff.compare(old.project, new.project, brief_ids)
        if as_json:
            import json

            click.echo(json.dumps(diff.as_json(diffs, old.label, new.label),
                                  ensure_ascii=False, indent=2))
        else:
            colours = {-1: "red", 1: "green"}
            for line in diff.summary(diffs, old.label, new.label,
                                     lambda text, op: click.style(text, fg=colours[op])):
                click.echo(line)
        for path, is_pdf in ((pdf, True), (html, False)):
            if path is None:
                continue
            if len(diffs) != 1:
                raise UsageError(
                    f"--{'pdf' if is_pdf else 'html'} writes the redline of one brief; "
                    "name it after the versions, e.g. brief diff HEAD~1 . BRIEF_ID "
                    f"--{'pdf' if is_pdf else 'html'} {path}")
            pages = diff.write_redline(diffs[0], old, new, path, is_pdf)
            click.echo(f"wrote {path}" + (f" ({count(pages, 'page')})" if is_pdf else ""),
                       err=as_json)
    if exit_code and diff.changed(diffs):
        click.get_current_context().exit(1)


HELP_WRITE = "Write <kind>.schema.json files into DIR (all three without KIND), not stdout."


@cli.command()
@click.argument("kind", type=click.Choice(["source", "brief", "places"]), required=False)
@click.option("--write", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=None, metavar="DIR", help=HELP_WRITE)
def schema(kind: str | None, folder: Path | None) -> None:
    """Print the JSON Schema of source, brief or places files, or --write them.

    Editors with a yaml-language-server (VS Code's YAML extension, among others)
    validate a file as you type when its first line names the schema:

    \b
      # yaml-language-server: $schema=../schemas/source.schema.json

    `brief init` projects have schemas/ and these lines. Rerun --write after
    upgrading policybrief.

    Example: brief schema --write schemas
    """
    from .schema import KINDS, schema_text, write_schemas

    if folder is not None:
        for path, changed in write_schemas(folder, [kind] if kind else list(KINDS)):
            click.echo(f"{'wrote' if changed else 'unchanged'} {path}")
    elif kind is None:
        raise click.UsageError("name a schema to print (source, brief or places), "
                               "or write all three with --write DIR")
    else:
        click.echo(schema_text(kind), nl=False)
