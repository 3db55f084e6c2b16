"""Search on a real database, SQLite and PostgreSQL: every field and operator, and injection attempts."""

import time
from datetime import UTC, datetime

import pytest

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from atlas.core.catalogue.tables import Model, Pass, Render, Tag
from atlas.core.search import sql
from atlas.core.search.parse import QuerySyntaxError

UTC = UTC


def add_render(session, key, *, width, height, created, passes, author=None, licence=None, tool="atlas",
               tags=(), input_render=None):
    render = Render(sha256=key * 8, format="png", width=width, height=height, size_bytes=1000, created=created,
                    author=author, licence_id=licence, tool=tool, store_path=f"{key}.png")
    session.add(render)
    session.flush()
    for fields in passes:
        session.add(Pass(status=fields.pop("status", "completed"), render_id=render.id,
                         input_render_id=input_render.id if input_render else None, **fields))
    for tag in tags:
        session.add(Tag(render_id=render.id, name=tag))
    session.flush()
    return render


def populate(catalogue):
    """Five renders whose facts differ enough that each query picks a known subset."""
    with catalogue.session() as s:
        sd14 = Model(name="sd-v1-4", kind="checkpoint", source="hub", format="diffusers",
                     sha256="fe4efff1e174c627256e44ec2991ba279b3816e364b49f9be2abc0b3ff3f8556",
                     short_hash="fe4efff1e1", licence_id="creativeml-openrail-m")
        sdxl = Model(name="sdxl-base", kind="checkpoint", source="hub", format="diffusers",
                     sha256="31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6ffb2c2f6b3e2",
                     short_hash="31e35c80fc", licence_id="openrail++")
        s.add_all([sd14, sdxl])
        s.flush()
        r = {}
        r["fox"] = add_render(s, "a", width=768, height=512, created=datetime(2025, 1, 10, 12, tzinfo=UTC),
                              author="alice", licence="CC0-1.0", tags=("best", "commons"), passes=[dict(
                                  kind="txt2img", prompt="a red fox in the snow, 8k", negative_prompt="blurry",
                                  seed=1, sampler="Euler a", steps=20, cfg=7.0, width=768, height=512,
                                  model_id=sd14.id)])
        r["fox-up"] = add_render(s, "b", width=1536, height=1024, created=datetime(2025, 1, 11, tzinfo=UTC),
                                 author="alice", licence="CC0-1.0", input_render=r["fox"], passes=[dict(
                                     kind="upscale", prompt="a red fox in the snow, 8k", negative_prompt="blurry",
                                     seed=2, sampler="Euler a", steps=150, cfg=7.0, denoise=0.1,
                                     model_id=sd14.id)])
        r["sale"] = add_render(s, "c", width=512, height=512, created=datetime(2025, 6, 1, tzinfo=UTC),
                               author="Bob", tool="ComfyUI", tags=("wip",), passes=[dict(
                                   kind="import", prompt='50% off_sale "quoted" city; DROP TABLE render',
                                   negative_prompt="lowres, text", seed=3, sampler="DPM++ 2M Karras", steps=40,
                                   cfg=4.5, settings={"model": "dreamshaper_8", "model_hash": "879db523c3"})])
        r["neon"] = add_render(s, "d", width=768, height=768, created=datetime(2026, 2, 1, tzinfo=UTC),
                               licence="CC-BY-4.0", passes=[
                                   dict(kind="txt2img", prompt="city at night, neon signs", negative_prompt="",
                                        seed=4, sampler="Euler", steps=60, cfg=12.0, model_id=sdxl.id),
                                   # a failed attempt at the same render is not what produced it
                                   dict(kind="txt2img", status="failed", prompt="ignored dragon", seed=99,
                                        sampler="DDIM", steps=5, cfg=1.0)])
        r["bare"] = add_render(s, "e", width=640, height=480, created=datetime(2026, 3, 1, tzinfo=UTC),
                               tool="unknown", passes=[dict(kind="import", prompt="", negative_prompt="")])
        s.commit()
        return {k: v.id for k, v in r.items()}


def _open(kind, root, postgres_url_factory, mp):
    """A populated catalogue under `root`: SQLite there, or a fresh PostgreSQL database."""
    mp.delenv("ATLAS_DATABASE_URL", raising=False)
    if kind == "postgresql":
        import psycopg

        base = postgres_url_factory()
        name = f"atlas_search_{int(time.time() * 1e6)}"
        with psycopg.connect(base.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        mp.setenv("ATLAS_DATABASE_URL", base.rsplit("/", 1)[0] + f"/{name}")
    catalogue = Catalogue.open(Home.resolve(root))
    assert catalogue.engine.dialect.name == kind
    return catalogue, populate(catalogue)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_db(request, tmp_path_factory):
    """For the read-only tests: built once per module and dialect."""
    with pytest.MonkeyPatch.context() as mp:
        catalogue, ids = _open(request.param, tmp_path_factory.mktemp("search"),
                               lambda: request.getfixturevalue("postgres_url"), mp)
        yield catalogue, ids
        catalogue.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, home):
    """For tests that change rows: a fresh catalogue each time."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_home")
    catalogue = Catalogue.open(home)
    assert catalogue.engine.dialect.name == request.param
    ids = populate(catalogue)
    yield catalogue, ids
    catalogue.close()


def found(db, text):
    catalogue, ids = db
    names = {v: k for k, v in ids.items()}
    with catalogue.session() as session:
        hits = sql.search(session, text, limit=100)
        assert sql.count(session, text) == len(hits)
        return {names[r.id] for r in hits}


ALL = {"fox", "fox-up", "sale", "neon", "bare"}

CASES = [
    ("", ALL),
    ("seed:1", {"fox"}),
    ("seed:99", set()),  # only the failed pass had it
    ("steps:20", {"fox"}),
    ("steps:20..60", {"fox", "sale", "neon"}),
    ("steps:100..", {"fox-up"}),
    ("steps:..40", {"fox", "sale"}),
    ("steps:>40", {"fox-up", "neon"}),
    ("steps:>=40", {"fox-up", "sale", "neon"}),
    ("steps:<40", {"fox"}),
    ("steps:<=40", {"fox", "sale"}),
    ("cfg:7", {"fox", "fox-up"}),
    ("cfg:4..5", {"sale"}),
    ("cfg:>7", {"neon"}),
    ("denoise:0.1", {"fox-up"}),
    ("denoise:<0.5", {"fox-up"}),
    ("width:768", {"fox", "neon"}),
    ("height:512", {"fox", "sale"}),
    ("size:768x512", {"fox"}),
    ("size:768x*", {"fox", "neon"}),
    ("size:*x512", {"fox", "sale"}),
    ('sampler:"euler a"', {"fox", "fox-up"}),
    ("sampler:euler", {"neon"}),
    ("sampler:euler*", {"fox", "fox-up", "neon"}),
    ("sampler:*karras", {"sale"}),
    ("-sampler:euler*", {"sale", "bare"}),  # a render without a sampler is "not euler"
    ("model:sd-v1-4", {"fox", "fox-up"}),
    ("model:SDXL*", {"neon"}),
    ("model:dreamshaper_8", {"sale"}),  # an imported render's model name
    ("model:dreamshaper?8", set()),
    ("model-hash:fe4efff1e1", {"fox", "fox-up"}),
    ("model-hash:31e35c80fc4829d14f90", {"neon"}),  # any prefix of the full sha256
    ("model-hash:879db523c3", {"sale"}),
    ("licence:cc0-1.0", {"fox", "fox-up"}),
    ("licence:CC*", {"fox", "fox-up", "neon"}),
    ("licence:CC-*", {"neon"}),
    ("model-licence:openrail++", {"neon"}),
    ("model-licence:creativeml*", {"fox", "fox-up"}),
    ("kind:upscale", {"fox-up"}),
    ("kind:txt2img", {"fox", "fox-up", "neon"}),  # lineage: the upscale came from a txt2img
    ("kind:import", {"sale", "bare"}),
    ("kind:txt2img -kind:upscale", {"fox", "neon"}),  # two kind: terms in one query
    ("kind:upscale OR kind:import", {"fox-up", "sale", "bare"}),
    ("author:ALICE", {"fox", "fox-up"}),
    ("author:bob", {"sale"}),
    ("-author:alice", {"sale", "neon", "bare"}),
    ("tag:best", {"fox"}),
    ("tag:*", {"fox", "sale"}),
    ("-tag:best", ALL - {"fox"}),
    ("tool:comfyui", {"sale"}),
    ("tool:atlas", {"fox", "fox-up", "neon"}),
    ("created:2025", {"fox", "fox-up", "sale"}),
    ("created:2025-01", {"fox", "fox-up"}),
    ("created:2025-01-10", {"fox"}),
    ("created:2025-02..2026-02", {"sale", "neon"}),
    ("created:>=2026", {"neon", "bare"}),
    ("created:<2025-06-01", {"fox", "fox-up"}),
    ("prompt:fox", {"fox", "fox-up"}),
    ("prompt:FOX*", set()),  # a glob on prompt matches the whole prompt
    ("prompt:a*8k", {"fox", "fox-up"}),
    ("negative:lowres", {"sale"}),
    ("-negative:blurry", {"sale", "neon", "bare"}),
    # full text
    ("fox", {"fox", "fox-up"}),
    ("FOX", {"fox", "fox-up"}),
    ("city", {"sale", "neon"}),
    ("blurry", {"fox", "fox-up"}),  # negative prompt too
    ('"red fox"', {"fox", "fox-up"}),
    ('"fox red"', set()),  # a phrase keeps its order
    ("ne*", {"neon"}),
    ("red snow", {"fox", "fox-up"}),
    ("dragon", set()),  # the failed pass is not searched
    ("-fox", {"sale", "neon", "bare"}),
    ("fox OR neon", {"fox", "fox-up", "neon"}),
    ("fox seed:2 OR tag:wip", {"fox-up", "sale"}),
    ('sampler:"Euler a" cfg:7 steps:10..30 fox', {"fox"}),
    ("run:1", set()),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_queries(shared_db, text, expected):
    assert found(shared_db, text) == expected


INJECTIONS = [
    ("50%", {"sale"}),  # % is literal in LIKE fallbacks and an FTS word boundary otherwise
    ("prompt:50%", {"sale"}),
    ("prompt:off_sale", {"sale"}),
    ("prompt:off?sale", set()),
    ("prompt:f_x", set()),  # _ is not a wildcard
    ("prompt:%", {"sale"}),
    ("prompt:\\", set()),
    ('prompt:"\\"quoted\\""', set()),
    ("prompt:'", set()),
    ('"DROP TABLE render"', {"sale"}),
    ("'; DROP TABLE render; --", None),  # `';` and `--` hold no word: refused, not run
    ("prompt:\"'); DROP TABLE pass; --\"", set()),
    ("fox NEAR snow", set()),  # FTS operators are words
    ('"fox" AND "snow"', set()),
    ("fox NOT snow", set()),
    ("{prompt}:fox", None),  # an unknown field: syntax error
    ("prompt:fox) OR 1=1 --", None),
    ("sampler:*%*", set()),
    ("tag:'best'", set()),
    ("author:bob' OR '1'='1", set()),
    ("(", None),
    ("^fox", {"fox", "fox-up"}),  # tokenizers drop the caret; FTS5 would read it as an operator
    ("fox:*", None),
    ("off_sal*", {"sale"}),  # word characters only reach the prefix query, as one bound value
    ("quot*", {"sale"}),
    ("5*", {"sale"}),
    ("'*", None),
]


@pytest.mark.parametrize("text, expected", INJECTIONS, ids=[c[0] for c in INJECTIONS])
def test_injection_attempts_match_literally_or_fail_cleanly(shared_db, text, expected):
    if expected is None:
        with pytest.raises(QuerySyntaxError):
            found(shared_db, text)
    else:
        assert found(shared_db, text) == expected
    assert found(shared_db, "") == ALL  # nothing dropped, nothing changed


def test_sort_orders(shared_db):
    catalogue, ids = shared_db
    with catalogue.session() as session:
        def order(text):
            names = {v: k for k, v in ids.items()}
            return [names[r.id] for r in sql.search(session, text)]

        assert order("") == ["bare", "neon", "sale", "fox-up", "fox"]  # newest first
        assert order("sort:created") == ["fox", "fox-up", "sale", "neon", "bare"]
        assert order("seed:1..4 sort:-seed") == ["neon", "sale", "fox-up", "fox"]
        assert order("seed:1..4 sort:steps") == ["fox", "sale", "neon", "fox-up"]
        assert order("tool:atlas sort:-cfg sort:created") == ["neon", "fox", "fox-up"]
        assert order("sort:id")[:2] == ["fox", "fox-up"]


def test_limit_and_offset_page_through_results(shared_db):
    catalogue, _ = shared_db
    with catalogue.session() as session:
        everything = [r.id for r in sql.search(session, "")]
        pages = [r.id for off in range(0, 5, 2) for r in sql.search(session, "", limit=2, offset=off)]
        assert pages == everything
        assert sql.count(session, "city") == 2


def test_full_text_follows_prompt_edits(db):
    """The index is kept in sync with the pass rows (triggers on SQLite, an expression index on PG)."""
    catalogue, ids = db
    from sqlmodel import select

    with catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == ids["bare"])).one()
        step.prompt = "a lonely lighthouse"
        session.commit()
    assert found(db, "lighthouse") == {"bare"}
    with catalogue.session() as session:
        session.delete(session.exec(select(Pass).where(Pass.render_id == ids["bare"])).one())
        session.commit()
    assert found(db, "lighthouse") == set()


def test_statements_bind_every_value(shared_db):
    """User text never appears in the SQL string: it is always a bound parameter."""
    catalogue, _ = shared_db
    dialect = catalogue.engine.dialect
    for text in ("prompt:zebra_q", 'sampler:"xylo phone"', "qwertz", "author:o'hara", "model-hash:abcdef"):
        compiled = str(sql.statement(text, dialect.name).compile(dialect=dialect))
        needle = text.split(":")[-1].strip('"').lower()
        assert needle not in compiled.lower()


# ---- the CLI ----------------------------------------------------------------------------------

@pytest.fixture
def cli_ids(home):
    catalogue = Catalogue.open(home)
    ids = populate(catalogue)
    catalogue.close()
    return ids


def test_cli_search_table_json_paths_and_count(cli, cli_ids, home):
    r = cli("search", "fox")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["id", "created", "size"]
    assert [int(line.split()[0]) for line in lines[1:]] == [cli_ids["fox-up"], cli_ids["fox"]]
    assert "a red fox in the snow" in r.out and "sd-v1-4" in r.out and "Euler a" in r.out

    r = cli("search", "--json", "sampler:euler*", "sort:seed")
    rows = [__import__("json").loads(line) for line in r.out.splitlines()]
    assert [row["id"] for row in rows] == [cli_ids["fox"], cli_ids["fox-up"], cli_ids["neon"]]
    assert rows[0]["seed"] == 1 and rows[0]["model"] == "sd-v1-4" and rows[0]["tags"] == ["best", "commons"]
    assert rows[2]["cfg"] == 12.0 and rows[2]["sampler"] == "Euler"

    r = cli("search", "--paths", "--limit", "1", "cfg:7")
    assert r.out.splitlines() == [str(home.store / "b.png")]

    assert cli("search", "--count", "city").out.strip() == "2"
    assert cli("search", "tool:nothing").out.strip() == "no renders match"


def test_cli_search_syntax_error_exits_2_naming_the_column(cli, cli_ids):
    r = cli("search", "fox", "steps:20..x")
    assert r.code == 2
    assert "column 5" in r.err and "steps:20..x" in r.err
    assert cli("search", "--limit", "0", "fox").code == 2


def test_cli_search_takes_a_leading_negated_term_as_query_text(cli, cli_ids):
    def found(*args):
        r = cli("search", "--json", *args)
        assert r.code == 0, r.err
        return {__import__("json").loads(line)["id"] for line in r.out.splitlines()}

    everything = set(cli_ids.values())
    assert found("-fox") == everything - {cli_ids["fox"], cli_ids["fox-up"]}
    assert found("-tag:best", "-height:512") == {cli_ids["fox-up"], cli_ids["neon"], cli_ids["bare"]}
    assert found("-hair") == everything  # `-h...` is a query word, not the help option
    assert found("-author:alice", "OR", "sampler:euler") == {cli_ids["sale"], cli_ids["neon"], cli_ids["bare"]}
    r = cli("search", "-steps:>=40", "--count")
    assert r.code == 0 and r.out.strip() == "2", r.err  # fox (20) and bare (no steps) stay


def test_cli_search_options_still_work_around_query_words(cli, cli_ids):
    assert cli("search", "-fox", "--paths", "--limit", "1").out.count("\n") == 1
    r = cli("search", "-h")
    assert r.code == 0 and "Usage: atlas search" in r.out and "Fields:" in r.out
    assert cli("search", "--help").out == r.out
    r = cli("search", "-fox", "--jsno")  # a mistyped option is an error, not query text
    assert r.code == 2 and "No such option" in r.err and "--jsno" in r.err
    r = cli("search", "-seed:x")
    assert r.code == 2 and "column 1" in r.err


def test_cli_search_on_postgresql(cli, pg_home):
    catalogue = Catalogue.open(pg_home)
    ids = populate(catalogue)
    catalogue.close()
    r = cli("search", "--json", "city", "sort:created")
    assert r.code == 0, r.err
    assert [__import__("json").loads(x)["id"] for x in r.out.splitlines()] == [ids["sale"], ids["neon"]]


def test_cli_tag_adds_removes_and_checks_ids_first(cli, cli_ids, home):
    fox, neon = cli_ids["fox"], cli_ids["neon"]
    r = cli("tag", fox, neon, "+print", "-best", "--json")
    assert r.code == 0, r.err
    assert r.json() == [{"id": fox, "tags": ["commons", "print"]}, {"id": neon, "tags": ["print"]}]
    assert cli("search", "--count", "tag:print").out.strip() == "2"

    r = cli("tag", neon, 999, "+lost")  # an unknown id: nothing changes, exit 2
    assert r.code == 2 and "999" in r.err
    assert cli("search", "--count", "tag:lost").out.strip() == "0"
    assert cli("tag", "fox", "+x").code == 2
    assert cli("tag", neon, "+two words").code == 2
    assert cli("tag", neon).out.strip() == f"{neon}: print"


def test_cli_search_imports_neither_torch_nor_textual(cli_ids, home):
    import subprocess
    import sys

    code = ("import sys; from atlas.cli.main import main; rc = main(['search', 'fox', '--json']); "
            "assert rc == 0; bad = [m for m in ('torch', 'diffusers', 'textual') if m in sys.modules]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**__import__("os").environ, "ATLAS_HOME": str(home.root)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 2


def test_postgresql_schema_matches_the_tables_and_keeps_64_bit_seeds(pg_home):
    """`alembic check` on PostgreSQL too (where int4 vs bigint matters), and a seed past 2**32 round-trips."""
    from alembic import command

    from atlas.core.catalogue.database import alembic_config

    catalogue = Catalogue.open(pg_home)
    try:
        with catalogue.engine.begin() as conn:
            command.check(alembic_config(conn))
        with catalogue.session() as session:
            render = add_render(session, "f", width=8, height=8, created=datetime(2026, 1, 1, tzinfo=UTC),
                                passes=[dict(kind="import", prompt="big", negative_prompt="",
                                             seed=9_000_000_000_000_000_000)])
            render.source_mtime_ns = 1_800_000_000_123_456_789
            session.commit()
            assert [r.id for r in sql.search(session, "seed:9000000000000000000")] == [render.id]
    finally:
        catalogue.close()


# Any text: it either parses and runs, or fails with a QuerySyntaxError; never an SQL or FTS error.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

QUERY_ALPHABET = st.sampled_from(list('abfoxcity 0123456789:."\'-*%_\\()^{}[];=<>|&~@#$+,/OR') +
                                 ["seed:", "steps:", "cfg:", "size:", "created:", "tag:", "sampler:", "prompt:",
                                  " OR ", "NEAR", "AND", "NOT", "sort:", "..", "é", "\u0000", "\n"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(QUERY_ALPHABET, max_size=12).map("".join))
def test_any_text_parses_and_runs_or_is_a_syntax_error(shared_db, text):
    catalogue, _ = shared_db
    try:
        with catalogue.session() as session:
            found_ids = [r.id for r in sql.search(session, text)]
            assert sql.count(session, text) >= len(found_ids)
    except QuerySyntaxError as err:
        assert 1 <= err.column <= len(text) + 1 and err.token


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0002_down_and_up_keeps_rows_and_reindexes(request, home, backend):
    """Down to 0001 and up again with rows in place (foreign keys on): rows survive, full text works again."""
    from alembic import command

    from atlas.core.catalogue.database import alembic_config

    if backend == "postgresql":
        request.getfixturevalue("pg_home")
    catalogue = Catalogue.open(home)
    ids = populate(catalogue)
    with catalogue.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with catalogue.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pass").scalar() == 6
        if backend == "sqlite":
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name LIKE 'pass_fts%'").scalar() == 0
        command.upgrade(alembic_config(conn), "head")
    assert found((catalogue, ids), "fox") == {"fox", "fox-up"}
    assert found((catalogue, ids), "seed:1") == {"fox"}
    catalogue.close()


def test_the_search_table_aligns_columns_and_cuts_the_prompt_with_an_ellipsis(capsys, monkeypatch):
    from atlas.cli.search_cmd import print_table

    row = {"id": 7, "created": "2026-11-29T07:00:00", "width": 64, "height": 32, "model": "m", "sampler": "Euler a",
           "steps": 20, "cfg": 7.5, "seed": 123, "prompt": "狐狸" * 40}
    print_table([row, {**row, "id": 12, "steps": None, "prompt": "fox"}])
    header, first, second = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "created", "size", "model", "sampler", "steps", "cfg", "seed", "prompt"]
    # widths worked out by hand: "id" column 2 cells wide, numbers right-aligned, "-" for no steps
    assert first.startswith(" 7 2026-11-29 07:00 64x32 m     Euler a    20 7.5  123 ")
    assert second.startswith("12 2026-11-29 07:00 64x32 m     Euler a     - 7.5  123 fox")
    # the prompt is the first 59 characters and "…" (60 at most), 2 cells per CJK character
    prompt = first[len(" 7 2026-11-29 07:00 64x32 m     Euler a    20 7.5  123 "):]
    assert prompt == ("狐狸" * 40)[:59] + "…"
