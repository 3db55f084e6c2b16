"""Facets: how many of the renders a query finds have each tag, model, sampler, licence and tool.

One grouped query per facet over the very filter a search uses (`sql._base`: hidden renders left
out unless the query names them), so the counts add up to what the list shows. `narrow` writes a
facet choice into the query text, so the search bar says what the list is.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, inspect
from sqlalchemy.orm import aliased
from sqlalchemy.sql.visitors import iterate
from sqlmodel import Session, col

from atlas.core.catalogue.tables import Render, Tag
from atlas.core.search import sql
from atlas.core.search.columns import Producer, ProducerModel
from atlas.core.search.parse import Query, parse, tokenize

# The tag facet joins its own alias: the `tag:` matcher's EXISTS names the table `tag` itself.
FacetTag = aliased(Tag, name="facet_tag")
# An import pass keeps the model name it read in its settings (no model row): as `rows` shows it.
_MODEL_NAME = func.coalesce(ProducerModel.name, Producer.settings["model"].as_string())
# Facet -> (the search field a choice narrows, the value counted).
FACETS: dict[str, tuple[str, Any]] = {
    "tag": ("tag", col(FacetTag.name)),
    "model": ("model", _MODEL_NAME),
    "sampler": ("sampler", col(Producer.sampler)),
    "licence": ("licence", col(Render.licence_id)),
    "tool": ("tool", col(Render.tool)),
}
PASS_FACETS = ("model", "sampler")
DEFAULT_LIMIT = 50


def _names_producer(condition) -> bool:
    """Whether `condition` names the producing pass or its model anywhere (subqueries included:
    a subquery over the pass table itself is taken as naming it, which only keeps the joins)."""
    producer_tables = {inspect(Producer).selectable, inspect(ProducerModel).selectable}
    return any(getattr(element, "table", None) in producer_tables for element in iterate(condition))


@dataclass(frozen=True)
class Count:
    value: str
    count: int


def counts(session: Session, text: str | Query, facet: str, limit: int = DEFAULT_LIMIT) -> list[Count]:
    """The `limit` most common values of `facet` among the renders matching `text`, most common
    first (ties by value); renders without a value are not counted."""
    if facet not in FACETS:
        raise KeyError(f"no facet {facet!r}; facets: {', '.join(FACETS)}")
    query = parse(text) if isinstance(text, str) else text
    value = FACETS[facet][1]
    dialect = session.get_bind().dialect.name
    number = func.count(func.distinct(Render.id)) if facet == "tag" else func.count()
    # A render's own facets need the producing pass only when the query's condition names it: on
    # 100,000 renders the two joins are most of the work of counting tools or licences.
    producer = facet in PASS_FACETS or _names_producer(sql.filtered(query, dialect))
    stmt = sql.base(query, dialect, producer).with_only_columns(value, number)
    if facet == "tag":
        stmt = stmt.join(FacetTag, col(FacetTag.render_id) == Render.id)
    stmt = stmt.where(value.is_not(None)).group_by(value).order_by(number.desc(), value).limit(limit)
    return [Count(found, n) for found, n in session.execute(stmt).all()]


def all_counts(session: Session, text: str | Query, limit: int = DEFAULT_LIMIT) -> dict[str, list[Count]]:
    """Every facet's counts for `text` (the query parsed once)."""
    query = parse(text) if isinstance(text, str) else text
    return {facet: counts(session, query, facet, limit) for facet in FACETS}


def term(facet: str, value: str, exclude: bool = False) -> str:
    """The query term that chooses `value` of `facet`: `model:"sd 1.5"`, quoted so spaces, `*`,
    `:` and `OR` are taken literally. A value holding `"` cannot be quoted (the language has no
    escape for it): each `"` and space then becomes a `*` wildcard, which still finds it."""
    field = FACETS[facet][0]
    unquotable = "".join("*" if ch == '"' or ch.isspace() else ch for ch in value)
    written = unquotable if '"' in value else f'"{value}"'
    return f"{'-' if exclude else ''}{field}:{written}"


def narrow(text: str, facet: str, value: str, exclude: bool = False) -> str:
    """`text` with a facet choice added to every alternative (AND binds tighter than OR, so
    `a OR b` becomes `a model:"x" OR b model:"x"`); a term already there is not added twice."""
    added = term(facet, value, exclude)
    alternatives: list[list[str]] = [[]]
    for tok in tokenize(text):
        if tok.text == "OR":
            alternatives.append([])
        else:
            alternatives[-1].append(tok.text)
    return " OR ".join(" ".join(words if added in words else [*words, added]) for words in alternatives)
