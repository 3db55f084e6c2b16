"""Seeds are 64-bit end to end: an unsigned 64-bit seed (ComfyUI's, Fooocus'), kept as text beyond
the signed column, is found by `seed:` (exact and ranges), shown by `search --json` and `show`;
`generate --seed` past its range is refused with exit 2 and the range it takes."""

import io
import json

import pytest
from PIL import Image, PngImagePlugin

from atlas.core.importers.batch import import_paths
from atlas.core.search import rows
from atlas.core.search import sql as search
from atlas.core.search.parse import QuerySyntaxError, parse

UNSIGNED_MAX = 2**64 - 1  # 18446744073709551615
SIGNED_MAX = 2**63 - 1
SEEDS = {"top": UNSIGNED_MAX, "past": SIGNED_MAX + 1, "big": 2**63 + 10**15, "edge": SIGNED_MAX,
         "comfy": 123456789012345, "small": 7}


def a1111_png(seed: int, name: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"{name}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}, Size: 8x8")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (len(name), 3, 4)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.fixture
def imported(catalogue, tmp_path):
    """name -> render id, one imported render per seed in SEEDS."""
    for name, seed in SEEDS.items():
        (tmp_path / f"{name}.png").write_bytes(a1111_png(seed, name))
    report = import_paths(catalogue, [tmp_path], workers=1)
    assert len(report.imported) == len(SEEDS)
    return {entry["path"].rsplit("/", 1)[-1][:-4]: entry["id"] for entry in report.imported}


def found(catalogue, query: str) -> set[int]:
    """What `query` finds, the same through SQLAlchemy and through the read commands' sqlite3 path."""
    from atlas.core.catalogue.reader import open_reader
    from atlas.core.search import plain

    with catalogue.session() as session:
        ids = {r.id for r in search.search(session, query, limit=100)}
    connection = open_reader(catalogue.home)
    assert connection is not None
    try:
        assert {r.id for r in plain.page(connection, query, limit=100)} == ids, query
    finally:
        connection.close()
    return ids


def expected(imported, test) -> set[int]:
    """The ids of the renders whose seed passes `test`, worked out in Python from SEEDS."""
    return {imported[name] for name, seed in SEEDS.items() if test(seed)}


def test_seeds_beyond_the_signed_column_are_kept_as_text(catalogue, imported):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass

    with catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == imported["top"])).one()
        edge = session.exec(select(Pass).where(Pass.render_id == imported["edge"])).one()
    assert (step.seed, step.settings["seed"]) == (None, "18446744073709551615")
    assert edge.seed == SIGNED_MAX and "seed" not in edge.settings


@pytest.mark.parametrize("name", list(SEEDS))
def test_exact_seed_finds_each_render(catalogue, imported, name):
    assert found(catalogue, f"seed:{SEEDS[name]}") == {imported[name]}


@pytest.mark.parametrize(("query", "test"), [
    (f"seed:>{SIGNED_MAX}", lambda s: s > SIGNED_MAX),
    (f"seed:>={SIGNED_MAX}", lambda s: s >= SIGNED_MAX),
    (f"seed:<{UNSIGNED_MAX}", lambda s: s < UNSIGNED_MAX),
    (f"seed:{SIGNED_MAX + 1}..{2**63 + 10**15}", lambda s: SIGNED_MAX + 1 <= s <= 2**63 + 10**15),
    (f"seed:{2**63 + 10**15 + 1}..", lambda s: s > 2**63 + 10**15),
    ("seed:1000..", lambda s: s >= 1000),
    ("seed:..1000", lambda s: s <= 1000),
    (f"seed:>{UNSIGNED_MAX - 1}", lambda s: s > UNSIGNED_MAX - 1),
    (f"seed:9223372036854775809..{UNSIGNED_MAX}", lambda s: s >= 2**63 + 1),
    (f"-seed:{UNSIGNED_MAX}", lambda s: s != UNSIGNED_MAX),
])
def test_seed_ranges_cover_both_columns(catalogue, imported, query, test):
    assert found(catalogue, query) == expected(imported, test)


def test_seeds_past_64_bits_are_refused_clearly():
    parse(f"seed:{UNSIGNED_MAX}")
    with pytest.raises(QuerySyntaxError, match="seed is out of range"):
        parse(f"seed:{UNSIGNED_MAX + 1}")
    with pytest.raises(QuerySyntaxError, match="steps is out of range"):
        parse(f"steps:{SIGNED_MAX + 1}")


def test_search_json_and_show_carry_the_whole_seed(cli, catalogue, imported):
    result = cli("search", f"seed:{UNSIGNED_MAX}", "--json")
    assert result.code == 0, result.err
    [row] = [json.loads(line) for line in result.out.splitlines()]  # one JSON object per line
    assert row["id"] == imported["top"] and row["seed"] == UNSIGNED_MAX
    with catalogue.session() as session:
        [page_row] = rows.page(session, f"seed:{UNSIGNED_MAX}")
    assert page_row.any_seed == UNSIGNED_MAX
    shown = cli("show", imported["top"])
    assert shown.code == 0 and "18446744073709551615" in shown.out
    shown = cli("show", imported["top"], "--json")
    assert json.loads(shown.out)["record"]["lineage"][-1]["settings"]["seed"] == "18446744073709551615"


def test_generate_refuses_a_seed_past_its_range_with_exit_2(cli):
    result = cli("generate", "a fox", "--seed", str(UNSIGNED_MAX))
    assert result.code == 2
    assert "seed" in result.err and "4294967295" in result.err  # says the range it takes (A1111's 32-bit)
