"""`atlas list` (and `atlas search`) read a page with a constant number of SQL statements: the same
for 10 rows shown as for 100, on 1,000 renders as on 100,000 (one joined query per page, never one
per row)."""

import json

import pytest
from sqlalchemy import String, cast, event, func, insert, literal, select, true
from sqlalchemy.engine import Engine

from atlas.cli.main import main
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Pass, Render, Tag


def fill(root, count: int) -> None:
    """A SQLite catalogue at `root` with `count` single-pass renders, rows only (no files): each
    table filled by one INSERT ... SELECT over a counting CTE, so SQLite makes the rows itself."""
    catalogue = Catalogue.open(root)
    n = select(literal(1).label("n")).cte("n", recursive=True)
    n = n.union_all(select(n.c.n + 1).where(n.c.n < count))
    created = func.datetime("2025-01-01", "+" + cast(n.c.n, String) + " seconds")  # render n is the nth newest
    renders = {"id": n.c.n, "sha256": func.printf("%064x", n.c.n), "format": literal("png"),
               "width": literal(512), "height": literal(512), "size_bytes": literal(1000), "created": created,
               "tool": literal("atlas"), "store_path": func.printf("00/00/%064x.png", n.c.n)}
    passes = {"id": n.c.n, "kind": literal("txt2img"), "status": literal("completed"), "render_id": n.c.n,
              "prompt": "render " + cast(n.c.n, String), "negative_prompt": literal(""), "seed": n.c.n,
              "sampler": literal("Euler"), "steps": literal(20), "cfg": literal(7.0), "settings": literal("{}"),
              "software": literal("{}"), "started": created}
    try:
        with catalogue.engine.begin() as conn:
            for table, columns, where in ((Render, renders, true()), (Pass, passes, true()),
                                          (Tag, {"render_id": n.c.n, "name": literal("best")}, n.c.n % 10 == 0)):
                rows = select(*(value.label(key) for key, value in columns.items())).where(where)
                conn.execute(insert(table).from_select(list(columns), rows))
    finally:
        catalogue.close()


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    small, large = tmp_path_factory.mktemp("small"), tmp_path_factory.mktemp("large")
    fill(small, 1_000)
    fill(large, 100_000)
    return {1_000: small, 100_000: large}


def statements(capsys, *args) -> tuple[int, str]:
    """Run `atlas ARGS...` in this process; the SQL statements it sent and what it printed."""
    sent = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        capsys.readouterr()
        assert main([str(a) for a in args]) == 0
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(sent), capsys.readouterr().out


@pytest.mark.parametrize("command", [["list", "--json"], ["search", "--json", "steps:20"]])
def test_a_page_costs_the_same_statements_whatever_its_size_and_the_catalogue_s(homes, capsys, command):
    counts = {}
    for renders, home in homes.items():
        for shown in (10, 100):
            counts[renders, shown], out = statements(capsys, "--home", home, *command, "--limit", shown)
            lines = json.loads(out) if command[0] == "list" else [json.loads(x) for x in out.splitlines()]
            assert [row["id"] for row in lines] == list(range(renders, renders - shown, -1))  # newest first
    assert len(set(counts.values())) == 1, counts
    assert counts[1_000, 10] <= 4, counts  # two to open the catalogue (its schema version), the page, its tags
