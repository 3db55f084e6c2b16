"""atlas: a provenance- and licence-aware asset manager for diffusion-model renders."""


def __getattr__(name: str) -> str:
    # Read on use: importing importlib.metadata costs a read command ~30 ms it never needs.
    if name != "__version__":
        raise AttributeError(f"module 'atlas' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atlas")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"
