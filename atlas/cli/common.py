"""Helpers shared by the commands: opening the catalogue, printing JSON and tables."""

import json
import sys
from typing import TYPE_CHECKING

import click

from atlas.core.terminal import safe

if TYPE_CHECKING:
    from atlas.core.catalogue import Catalogue


def open_catalogue(ctx: click.Context, busy_timeout: float | None = None) -> "Catalogue":
    """The command's catalogue, opened on first use; `busy_timeout`: see `Catalogue.open` (default
    DEFAULT_BUSY_TIMEOUT_S). Imported here: read commands answered by the SQLite reader
    (`atlas.core.actions.reading`) never load SQLAlchemy."""
    from atlas.core.catalogue import DEFAULT_BUSY_TIMEOUT_S, Catalogue

    root = ctx.find_root()
    if "catalogue" not in root.obj:
        timeout = DEFAULT_BUSY_TIMEOUT_S if busy_timeout is None else busy_timeout
        root.obj["catalogue"] = Catalogue.open(root.obj.get("home"), timeout)
        ctx.call_on_close(root.obj["catalogue"].close)
    return root.obj["catalogue"]


def echo(text, err: bool = False) -> None:
    """Print a line of human-readable output: control characters from prompts, titles, paths and
    metadata are shown as escapes (atlas.core.terminal), newlines and tabs kept."""
    click.echo(safe(text, multiline=True), err=err)


# json.dumps escapes C0 controls but leaves DEL and the C1 range raw; some terminals act on C1 (U+009B
# is a CSI). Escaped, the document parses to the same values.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}


def echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str).translate(_JSON_ESCAPES))


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def console():
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False)
