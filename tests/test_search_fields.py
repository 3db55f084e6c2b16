"""The search field registry is the one list: the parser, the SQL, sorting and every help text agree with it."""

import re
from pathlib import Path

import pytest

from atlas.core.catalogue.tables import Render
from atlas.core.search import fields, rows, sql
from atlas.core.search.fields import DATE, FLAG, FLOAT, INT, SIZE, TEXT
from atlas.core.search.parse import Flag, Match, QuerySyntaxError, Range, Size, Sort, parse

NAMES = [f.name for f in fields.REGISTRY]
README = Path(__file__).resolve().parents[1] / "README.md"

# A value of each type, as a query would give it.
SAMPLE = {INT: "7", FLOAT: "0.5", TEXT: "x*", DATE: "2026-01", SIZE: "8x*"}


def term_of(f, key=None) -> str:
    """A query term on field `f` (a flag is written alone)."""
    return (key or f.name) if f.type == FLAG else f"{key or f.name}:{SAMPLE[f.type]}"


def test_names_and_aliases_are_unique_and_lower_case():
    assert len(NAMES) == len(set(NAMES))
    assert not set(fields.ALIASES) & set(NAMES)
    assert sum(len(f.aliases) for f in fields.REGISTRY) == len(fields.ALIASES)
    for name in [*NAMES, *fields.ALIASES]:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
    assert {f.type for f in fields.REGISTRY} <= {INT, FLOAT, TEXT, DATE, SIZE, FLAG}


@pytest.mark.parametrize("f", fields.REGISTRY, ids=NAMES)
def test_the_parser_takes_every_field_and_its_aliases(f):
    for key in (f.name, f.name.upper(), *f.aliases):
        where = parse(term_of(f, key)).where
        if f.type == FLAG:
            assert where == Flag(f.name)
        elif f.type == SIZE:
            assert where == Size(8, None)
        else:
            assert isinstance(where, (Match, Range)) and where.field == f.name, where
    if f.sortable:
        assert parse(f"sort:-{f.name}").sort == (Sort(f.name, True),)
    else:
        with pytest.raises(QuerySyntaxError, match="cannot sort"):
            parse(f"sort:{f.name}")


def test_the_parser_names_the_registry_fields_in_its_errors():
    with pytest.raises(QuerySyntaxError) as exc:
        parse("colour:red")
    assert exc.value.reason == f"unknown field 'colour'; fields: {', '.join(sorted(NAMES))}"
    with pytest.raises(QuerySyntaxError) as exc:
        parse("sort:colour")
    assert exc.value.reason.endswith(f"sortable: {', '.join(sorted(fields.SORTABLE))}")


@pytest.mark.parametrize("f", fields.REGISTRY, ids=NAMES)
def test_the_sql_handles_every_field_and_its_sort(f, catalogue):
    """Each field's condition (plain, negated, OR-ed) and sort run against a real catalogue."""
    term = term_of(f)
    texts = [term, f"-{term}", f"{term} OR seed:1"]
    if f.sortable:
        texts.append(f"sort:{f.name}")
    with catalogue.session() as session:
        for text in texts:
            assert sql.search(session, text) == [] and sql.count(session, text) == 0, text
    assert f.column is not None or f.name in sql.MATCHERS or f.type == SIZE, "no column and no matcher"


def test_matchers_and_sort_columns_name_registry_fields():
    assert set(sql.MATCHERS) <= {f.name for f in fields.REGISTRY if f.type == TEXT}
    # The TUI's sortable columns are registry fields, sorted by the registry's expressions.
    assert set(rows.SORT_FIELDS) <= set(fields.SORTABLE)
    for key, expression in rows.SORT_FIELDS.items():
        assert expression is fields.FIELDS[key].sort_key
    assert str(fields.FIELDS["size"].sort_key) == str(Render.width * Render.height)
    with pytest.raises(KeyError, match="not sortable"):
        _ = fields.FIELDS["tag"].sort_key


def test_sort_size_orders_by_area(catalogue):
    """`sort:size` orders by the registry's sort expression (the area), which is no column."""
    with catalogue.session() as session:
        for name, (w, h) in {"wide": (900, 10), "square": (200, 200), "tall": (100, 300)}.items():
            session.add(Render(sha256=name * 8, format="png", width=w, height=h, size_bytes=1, store_path=name))
        session.commit()
        assert [r.store_path for r in sql.search(session, "sort:size")] == ["wide", "tall", "square"]
        assert [r.store_path for r in sql.search(session, "sort:-size")] == ["square", "tall", "wide"]


# ---- every place that lists the fields ------------------------------------------------------------

def _block(text: str, heading: str) -> list[str]:
    """The field names listed one per line under `heading`, up to the next blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == heading) + 1
    names = []
    for line in lines[start:]:
        if not line.strip():
            break
        names.append(line.split()[0])
    return names


def _after(text: str, label: str) -> list[str]:
    """The names in a `label: a b, c=d ...` line (wrapped lines joined); for `x=y` pairs, the `x`."""
    match = re.search(rf"{label}:(.*?)(?:\n\s*\n|\n\s*\w+:\s|\Z)", text, re.DOTALL | re.IGNORECASE)
    assert match, f"no {label!r} line"
    return [word.split("=")[0] for word in re.split(r"[\s,]+", match.group(1)) if word]


def _documented(text: str, heading: str) -> None:
    assert _block(text, heading) == NAMES
    assert _after(text, "aliases") == list(fields.ALIASES)
    assert _after(text, "sortable") == list(fields.SORTABLE)


def test_search_help_lists_every_field(cli):
    r = cli("search", "--help")
    assert r.code == 0
    _documented(r.out, "Fields:")
    for f in fields.REGISTRY:
        assert re.search(rf"^\s+{re.escape(f.name)}\s+{re.escape(f.help)}$", r.out, re.MULTILINE), f.name


def test_tui_help_lists_every_field():
    from atlas.tui.screens.help import QUERY_HELP

    _documented(QUERY_HELP, "[b]Fields[/b]")


def test_readme_lists_every_field():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Search", 1)[1].split("\n### ", 1)[0]
    paragraph = re.sub(r"\([^)]*\)", "", section)  # notes such as size (`768x512`, `768x*`)
    listed = re.search(r"Fields: (.*?)\. Aliases: (.*?)\. Sortable: (.*?)\.", paragraph, re.DOTALL)
    assert listed, "the README's search section lists Fields:, Aliases: and Sortable:"
    fields_, aliases, sortable = ([w for w in re.split(r"[\s,]+", group) if w] for group in listed.groups())
    assert fields_ == NAMES
    assert aliases == list(fields.ALIASES)
    assert sortable == list(fields.SORTABLE)
