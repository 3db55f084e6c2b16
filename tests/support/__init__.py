"""Helpers the tests share: importable as `tests.support.*` (pyproject puts the repository root on
pytest's path). Fixtures built from them live in tests/conftest.py; no test module imports another."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Real files written by A1111, ComfyUI, InvokeAI, NovelAI and Fooocus, plus broken ones (MIT, from the
# sd-parsers project: see its LICENSE.txt there). Kept in the repository so a clean clone tests with them.
FIXTURES = REPO / "tests" / "fixtures" / "sd-parsers"
