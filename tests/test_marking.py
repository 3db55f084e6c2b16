"""Ratings, hiding and deleting: recorded in the catalogue, searchable, and reachable from the CLI."""

import pytest
from sqlmodel import select

from atlas.core.actions import deleting, listing, marking
from atlas.core.catalogue.tables import Pass, Render, Run, Tag
from atlas.core.errors import BadInput, NotFound
from tests.support.small_renders import add


def ids(catalogue, query: str) -> list[int]:
    return sorted(row.id for row in listing.page(catalogue, query, limit=1000))


@pytest.fixture
def four(catalogue):
    return [add(catalogue, shade).id for shade in range(1, 5)]


def test_ratings_are_recorded_and_searchable(catalogue, four):
    a, b, c, d = four
    assert marking.rate(catalogue, [a, b], 5) == {a: 5, b: 5}
    marking.rate(catalogue, [c], 3)
    with catalogue.session() as session:
        assert {r.id: r.rating for r in session.exec(select(Render))} == {a: 5, b: 5, c: 3, d: None}
    assert ids(catalogue, "rating:5") == [a, b]
    assert ids(catalogue, "rating:>=3") == [a, b, c]
    assert ids(catalogue, "stars:<4") == [c]
    assert ids(catalogue, "-rating:5") == [c, d]  # unrated is "not 5" too
    assert [row.id for row in listing.page(catalogue, "sort:-rating")][:3] == [b, a, c]
    marking.rate(catalogue, [a], 0)  # 0 takes the rating away
    assert ids(catalogue, "rating:5") == [b]
    assert listing.summaries(catalogue, f"id:{b}")[0]["rating"] == 5


@pytest.mark.parametrize("bad", ["6", "-1", "three", "2.5"])
def test_a_rating_is_0_to_5(catalogue, four, bad):
    with pytest.raises(BadInput):
        marking.rate(catalogue, four[:1], bad)


def test_nothing_is_rated_unless_every_render_exists(catalogue, four):
    with pytest.raises(NotFound):
        marking.rate(catalogue, [four[0], 999], 4)
    assert ids(catalogue, "rating:4") == []


def test_hidden_renders_are_left_out_unless_the_query_names_hidden(catalogue, four):
    a, b, c, d = four
    marking.hide(catalogue, [b, d])
    assert ids(catalogue, "") == [a, c]
    assert ids(catalogue, "fox") == [a, c]
    assert ids(catalogue, "hidden") == [b, d]
    assert ids(catalogue, "-hidden") == [a, c]
    assert ids(catalogue, "hidden OR -hidden") == [a, b, c, d]
    assert ids(catalogue, f"HIDDEN id:{b}") == [b]
    assert listing.count(catalogue, "") == 2 and listing.count(catalogue, "hidden") == 2
    assert ids(catalogue, '"hidden"') == []  # quoted: a word of the prompt, not the flag
    marking.hide(catalogue, [b], hidden=False)
    assert ids(catalogue, "") == [a, b, c]


def test_hidden_takes_no_value(catalogue):
    with pytest.raises(BadInput, match="takes no value"):
        listing.check_query("hidden:yes")


def test_delete_removes_the_render_its_passes_tags_and_file(catalogue, four):
    from atlas.core.actions import tagging

    a, b = four[:2]
    tagging.tag(catalogue, [a], add=["best"])
    with catalogue.session() as session:
        path = catalogue.store.path_of(session.get(Render, a).store_path)
    assert path.is_file()
    done = deleting.delete(catalogue, [a])
    assert done.render_ids == (a,) and len(done.files) == 1
    assert not path.exists()
    with catalogue.session() as session:
        assert session.get(Render, a) is None
        assert session.exec(select(Pass).where(Pass.render_id == a)).all() == []
        assert session.exec(select(Tag).where(Tag.render_id == a)).all() == []
        assert session.get(Render, b) is not None
    assert ids(catalogue, "fox") == sorted(four[1:])  # the full-text index followed


def test_delete_refuses_a_render_others_were_made_from(catalogue):
    parent = add(catalogue, 10)
    child = add(catalogue, 11, parent=parent)
    with pytest.raises(deleting.HasDescendants, match=str(child.id)):
        deleting.delete(catalogue, [parent.id])
    with catalogue.session() as session:
        assert session.get(Render, parent.id) is not None
    done = deleting.delete(catalogue, [parent.id, child.id])  # together: nothing is left pointing at it
    assert sorted(done.render_ids) == sorted([parent.id, child.id]) and len(done.files) == 2
    with catalogue.session() as session:
        assert session.exec(select(Render)).all() == []


def test_delete_keeps_a_file_another_render_names_and_linked_files(catalogue, tmp_path, four):
    a, b = four[:2]
    linked = tmp_path / "mine.png"
    linked.write_bytes(b"not ours")
    with catalogue.session() as session:
        rb = session.get(Render, b)
        shared = session.get(Render, a).store_path
        rb.store_path = shared  # two rows naming one file (an edited catalogue): the file stays
        session.add(rb)
        run = Run(recipe_name="x", final_render_id=a)
        session.add(run)
        session.commit()
        run_id = run.id
    done = deleting.delete(catalogue, [a])
    assert done.files == () and catalogue.store.path_of(shared).is_file()
    with catalogue.session() as session:
        assert session.get(Run, run_id).final_render_id is None
        rb = session.get(Render, b)
        rb.store_path, rb.linked_path = None, str(linked)
        session.add(rb)
        session.commit()
    assert deleting.delete(catalogue, [b]).linked == (str(linked),)
    assert linked.read_bytes() == b"not ours"


def test_cli_rate_hide_unhide_delete(cli, catalogue, four):
    a, b, c, d = four
    r = cli("rate", a, b, "4")
    assert r.code == 0 and r.out.splitlines() == [f"{a}: ****", f"{b}: ****"]
    assert cli("rate", a, "9").code == 2
    assert cli("rate", "x", "3").code == 2
    assert cli("hide", c).code == 0
    r = cli("search", "--json", "--count", "")
    assert r.out.strip() == "3"
    assert cli("search", "--count", "hidden").out.strip() == "1"
    assert cli("unhide", c).code == 0
    assert cli("search", "--count", "rating:4").out.strip() == "2"
    r = cli("delete", d)  # no terminal to ask on: refused, nothing deleted
    assert r.code == 2 and "--yes" in r.err
    assert cli("delete", d, "--yes").code == 0
    assert cli("search", "--count", "").out.strip() == "3"
    assert cli("delete", 999, "--yes").code == 2
