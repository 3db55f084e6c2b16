"""Errors that the interfaces turn into exit codes and messages."""


class AtlasError(Exception):
    """Something failed while doing valid work (exit code 1)."""

    exit_code = 1


class BadInput(AtlasError):
    """The user asked for something invalid: a bad value, an unknown name (exit code 2)."""

    exit_code = 2


class NotFound(BadInput):
    """A render, model, licence or run the user named does not exist."""
