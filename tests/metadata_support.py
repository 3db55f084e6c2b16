"""Helpers shared by the metadata tests."""

from pathlib import Path

from conftest import FIXTURES, REPO


def sd_parsers_fixtures() -> Path:
    """The sd-parsers fixture folder: `conftest.FIXTURES`, or a `shared/` beside a parent (git worktrees)."""
    if FIXTURES.is_dir():
        return FIXTURES
    for base in REPO.parents:
        found = base / "shared" / "fixtures" / "sd-parsers"
        if found.is_dir():
            return found
    raise FileNotFoundError(f"sd-parsers fixtures not found (looked at {FIXTURES} and beside {REPO}'s parents)")
