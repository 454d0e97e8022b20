"""policybrief: turn curated, cited source notes into styled PDF policy briefs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("policybrief")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
