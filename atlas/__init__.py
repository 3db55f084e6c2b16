"""atlas: a provenance- and licence-aware asset manager for diffusion-model renders."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("atlas")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
