"""ReelFlow: brief in, publish-ready short video out (Prefect 3 flows)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reelflow")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"
