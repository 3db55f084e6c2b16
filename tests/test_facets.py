"""Facet counts agree with counts made in Python over the rows a search returns; a chosen facet
narrows the query text so that it finds exactly the counted renders."""

import random
from collections import Counter

import pytest
from sqlmodel import select

from atlas.core.actions import listing, marking, tagging
from atlas.core.catalogue.tables import Model, Pass
from atlas.core.search import facets
from atlas.core.search.parse import parse
from tests.support.small_renders import add

SAMPLERS = ["Euler", "Euler a", "DPM++ 2M", "DDIM"]
TAGS = ["best", "wip", "print", "odd-name"]
LICENCES = ["CC0-1.0", "CC-BY-4.0", None]
TOOLS = ["atlas", "ComfyUI", "AUTOMATIC1111"]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """One catalogue for the module: the tests only read it."""
    from atlas.core.catalogue import Catalogue
    from atlas.core.catalogue.home import Home

    opened = Catalogue.open(Home.resolve(tmp_path_factory.mktemp("facets") / "home"))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def mixed(catalogue):
    rng = random.Random(5)
    with catalogue.session() as session:
        models = [Model(name=name, kind="checkpoint", source=name, format="diffusers", sha256=name * 4,
                        short_hash=name[:10], licence_id="creativeml-openrail-m") for name in ("sd 1.5", 'odd "q"')]
        session.add_all(models)
        session.commit()
        model_ids = [m.id for m in models]
    made = []
    for i in range(30):
        render = add(catalogue, i, prompt=rng.choice(["a fox", "a red fox", "a castle"]),
                     sampler=rng.choice(SAMPLERS))
        made.append(render.id)
        with catalogue.session() as session:
            row = session.get(type(render), render.id)
            row.licence_id, row.tool = rng.choice(LICENCES), rng.choice(TOOLS)
            session.add(row)
            step = session.exec(select(Pass).where(Pass.render_id == render.id)).one()
            choice = rng.randrange(3)
            if choice < 2:
                step.model_id = model_ids[choice]
            else:  # an import names its model in its settings only
                step.settings = {"model": "imported-x"}
            session.add(step)
            session.commit()
        chosen = rng.sample(TAGS, rng.randrange(3))
        if chosen:
            tagging.tag(catalogue, [render.id], add=chosen)
    marking.hide(catalogue, made[:5])
    return made


def expected(catalogue, text: str, facet: str) -> Counter:
    found = Counter()
    for row in listing.page(catalogue, text, limit=1000, tags=True):
        values = {"tag": list(row.tags), "model": [row.model], "sampler": [row.sampler], "licence": [row.licence],
                  "tool": [row.tool]}[facet]
        found.update(v for v in values if v is not None)
    return found


@pytest.mark.parametrize("text", ["", "fox", "-hidden", "hidden", "red OR castle", "sampler:euler* -tag:wip"])
@pytest.mark.parametrize("facet", list(facets.FACETS))
def test_counts_agree_with_the_rows_a_search_returns(catalogue, mixed, text, facet):
    with catalogue.session() as session:
        found = facets.counts(session, text, facet)
    reference = expected(catalogue, text, facet)
    assert {c.value: c.count for c in found} == dict(reference)
    assert [c.count for c in found] == sorted((c.count for c in found), reverse=True)


@pytest.mark.parametrize("text", ["", "fox", "red OR castle", "sort:-seed"])
@pytest.mark.parametrize("facet", list(facets.FACETS))
def test_choosing_a_facet_finds_what_it_counted(catalogue, mixed, text, facet):
    with catalogue.session() as session:
        found = facets.counts(session, text, facet)
    assert found
    for choice in found:
        narrowed = facets.narrow(text, facet, choice.value)
        assert listing.count(catalogue, narrowed) == choice.count, narrowed
        excluded = facets.narrow(text, facet, choice.value, exclude=True)
        assert listing.count(catalogue, excluded) == listing.count(catalogue, text) - choice.count, excluded


def test_narrow_quotes_and_distributes_over_or():
    assert facets.narrow("", "model", "sd 1.5") == 'model:"sd 1.5"'
    assert facets.narrow("fox OR cat", "tag", "best") == 'fox tag:"best" OR cat tag:"best"'
    assert facets.narrow('fox tag:"best"', "tag", "best") == 'fox tag:"best"'
    assert facets.narrow("fox", "sampler", "OR", exclude=True) == 'fox -sampler:"OR"'
    assert facets.narrow("", "model", 'odd "q"') == "model:odd**q*"
    assert parse(facets.narrow("x", "model", "a*b")).where.queries[1].glob is False  # quoted: literal


def test_an_unknown_facet_is_refused(catalogue):
    with catalogue.session() as session, pytest.raises(KeyError, match="facets"):
        facets.counts(session, "", "colour")
