"""policybrief: turn curated, cited source notes into styled PDF policy briefs.

Process-wide state. A build forks (build workers, prefork's PDF process), and a forked
process inherits what its parent had set; these are the values that outlive one call,
each kept on purpose and reset by the one place named here:

- pdf._RENDER_CACHES: per process id, the font configuration and parsed stylesheets a
  process keeps across the targets it renders (pdf._RenderCache). Set to {} by
  pdf.session() and closed and set to None at its end; keyed by process id because a
  forked worker inherits its parent's dict and must make its own entry.
- tempfile.tempdir: where everything a render writes to TMPDIR goes (WeasyPrint's font
  files, pandoc's input), so that one folder holds it and is removed even after a
  worker was killed. pdf.session() sets it to a folder of its own, inherited by the
  workers it forks, and restores the previous value at its end; prefork._serve sets it
  in the PDF process, whose folder goes with that process.
- prefork._CURRENT: the PDF process forked for this build (pid, socket, temporary
  folder, the process that forked it), or None. Set by prefork.start(), reset by
  prefork.stop(); the parent's id keeps a pool worker forked later from using it.
- PIL.Image.MAX_IMAGE_PIXELS: Pillow's decompression-bomb limit, a module global with
  no per-call form. pdf.render_pdf sets it to pdf.MAX_IMAGE_PIXELS before every render;
  never reset (it is the same value every time).
- weasyprint.pdf.fonts.Font.subset: replaced with pdf._subset_font, for PDFs that are
  the same on every machine, by pdf._subset_fonts_alike() on the first render in a
  process; never reset.
- weasyprint.layout.page.remake_page, weasyprint.layout.block._linebox_layout and
  weasyprint.layout.inline.split_first_line (weasyfix.PATCHED): wrapped by
  weasyfix.install() on the first render in a process (WeasyPrint 70.0 only), so that
  footnotes deferred to a page laid out again, or called in a line kept by deferring
  others, are kept, and a text that fits but for its trailing space stays on its line;
  never reset (each original is the wrapper's __wrapped__).
- workers._WORKER: the function a worker renders a job with (build.render_target with
  the project loaded and a template environment made once) and each job's time limit.
  Set by workers.run_jobs before it forks the workers (which inherit it) or renders in
  this process; replaced by the next build, never cleared.

Not listed: functools caches of values that do not change while the program runs
(installed fonts, the MIME table, parsed CSS checks), and changes undone before the
call that made them returns (signal handlers, the WeasyPrint log handler, ctypes'
find_library while weasy.import_weasyprint runs).
"""

# The one place the version is written (pyproject.toml reads it): a constant, because
# looking it up with importlib.metadata would add 80 ms to every `brief` start-up.
__version__ = "0.1.0"
