"""`atlas search QUERY`: find renders by parameter and prompt words (README.md, "Search")."""

import json
import textwrap

import click

from atlas.core.limits import MAX_LIST_LIMIT
from atlas.core.search import fields
from atlas.core.settings import MAX_INT
from atlas.core.terminal import safe

SYNTAX = """Find renders. QUERY words are ANDed, e.g.  sampler:"Euler a" cfg:7 steps:40..60 city

\b
field:value   exact (numbers), case-insensitive (text), * wildcards
field:a..b    range, either end open; field:>=7, >, <, <=
size:768x512  or 768x*;  created:2026-11, created:2025..2026-03
-term         negation;  a OR b  alternatives;  bare words: full text over prompts
sort:field / sort:-field (default newest first)
hidden        only hidden renders (atlas hide); left out of queries without it
"""


def help_text() -> str:
    """The command's help: the syntax, then every search field from the registry."""
    lines = ["\b", "Fields:"]
    lines += [f"  {f.name:<14} {f.help}" for f in fields.REGISTRY]
    aliases = ", ".join(f"{alias}={name}" for alias, name in fields.ALIASES.items())
    lines += ["", "\b", *_wrap(f"Aliases: {aliases}"), *_wrap(f"Sortable: {' '.join(fields.SORTABLE)}")]
    return "\n".join([SYNTAX, *lines])


def _wrap(line: str) -> list[str]:
    return textwrap.wrap(line, 76, subsequent_indent="  ", break_on_hyphens=False)


class SearchCommand(click.Command):
    """Query words may start with `-` (`-miku`, `-tag:wip`): the options are all long, so a word
    with one leading dash is query text; `-h` alone still asks for help."""

    def parse_args(self, ctx, args):
        end = args.index("--") if "--" in args else len(args)
        if "-h" in args[:end]:
            args = ["--help"]
        return super().parse_args(ctx, args)


@click.command(cls=SearchCommand, help=help_text(),
               context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
@click.argument("query", nargs=-1, type=click.UNPROCESSED)
@click.option("--limit", type=click.IntRange(min=1, max=MAX_LIST_LIMIT), default=50, show_default=True,
              help="At most this many.")
@click.option("--offset", type=click.IntRange(min=0, max=MAX_INT), default=0, help="Skip this many first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--paths", is_flag=True, help="Only the file paths, one per line (for piping).")
@click.option("--count", "only_count", is_flag=True, help="Only the number of matching renders.")
@click.pass_context
def search(ctx, query, limit, offset, as_json, paths, only_count):
    from atlas.core.actions import reading
    from atlas.core.search.parse import parse

    # Unknown long options come through as words too: no query word starts with `--`, so it is a typo.
    for word in query:
        if word.startswith("--"):
            raise click.NoSuchOption(word.split("=", 1)[0], ctx=ctx)
    text = " ".join(query)
    parsed = parse(text)  # syntax errors before the catalogue is opened: exit 2, nothing touched
    home = ctx.find_root().obj.get("home")
    if only_count:
        click.echo(reading.count(home, parsed))
        return
    rows = reading.summaries(home, parsed, limit=limit, offset=offset)
    if paths:
        for row in rows:
            if row["path"]:
                click.echo(safe(row["path"]))
    elif as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
    else:
        print_table(rows)


COLUMNS = (("id", ">"), ("created", "<"), ("size", "<"), ("model", "<"), ("sampler", "<"), ("steps", ">"),
           ("cfg", ">"), ("seed", ">"), ("prompt", "<"))
PROMPT_MIN = 20


def _cells(text: str) -> int:
    """Terminal cells `text` takes: wide (CJK) characters two, combining marks none."""
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut with an ellipsis so a cut value never passes for a whole one."""
    if _cells(text) <= width:
        return text
    out, used = "", 0
    for c in text:
        if used + _cells(c) > width - 1:
            break
        out, used = out + c, used + _cells(c)
    return out + "…"


def print_table(rows: list[dict]) -> None:
    """The rows as aligned columns, the prompt taking what the terminal leaves. Plain text, not rich:
    importing rich's console is a third of a cold `atlas search` (README: read commands start fast)."""
    import shutil
    import sys

    if not rows:
        print("no renders match")
        return
    # Piped output has no terminal width: do not squeeze the prompt away.
    total = shutil.get_terminal_size((200, 24)).columns if sys.stdout.isatty() else 200
    table = []
    for row in rows:
        excerpt = row["prompt"] if len(row["prompt"]) <= 60 else row["prompt"][:59] + "…"
        cells = (str(row["id"]), row["created"][:16].replace("T", " "), f"{row['width']}x{row['height']}",
                 row["model"] or "-", row["sampler"] or "-", _text(row["steps"]), _text(row["cfg"]),
                 _text(row["seed"]), excerpt)
        table.append([safe(cell) for cell in cells])
    widths = [max(_cells(name), *(_cells(line[i]) for line in table)) for i, (name, _) in enumerate(COLUMNS)]
    widths[-1] = min(widths[-1], max(PROMPT_MIN, total - sum(widths[:-1]) - len(widths) + 1))
    for line in [[name for name, _ in COLUMNS], *table]:
        shown = []
        for (_, align), width, cell in zip(COLUMNS, widths, line, strict=True):
            cell = _cut(cell, width)
            pad = " " * (width - _cells(cell))
            shown.append(pad + cell if align == ">" else cell + pad)
        print(" ".join(shown).rstrip())


def _text(value) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)
