"""policybrief: turn curated, cited source notes into styled PDF policy briefs."""

# The one place the version is written (pyproject.toml reads it): a constant, because
# looking it up with importlib.metadata would add 80 ms to every `brief` start-up.
__version__ = "0.1.0"
