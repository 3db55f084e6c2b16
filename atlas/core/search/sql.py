"""Query objects to SQL: every value is a bound parameter, nothing is concatenated into SQL.

A render's parameters are those of the completed pass that produced it (`Pass.render_id`); a field
of a pass also matches the earlier sampling passes an import records beside it (`EARLIER`).
Text fields compare case-insensitively; `*` becomes a LIKE wildcard with `%`, `_` and the escape
character escaped first, so they match themselves. Each field's column and sort expression come
from `fields.REGISTRY`; `MATCHERS` holds the fields whose condition is more than a comparison.
"""

from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from atlas.core import sampler_names as samplers
from atlas.core.catalogue import fulltext
from atlas.core.catalogue.tables import Pass, Render, Tag, produces_render
from atlas.core.search.columns import Producer, ProducerModel
from atlas.core.search.fields import FIELDS
from atlas.core.search.parse import And, Flag, FullText, Match, Not, Or, Query, Range, Size, parse
from atlas.core.settings import MAX_INT

ESCAPE = "\\"


def like_pattern(value: str, glob: bool) -> str:
    escaped = value.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return escaped.replace("*", "%") if glob else escaped


def text_match(expr: SQLColumnExpression[Any], value: str, glob: bool, contains: bool = False) -> ColumnElement[bool]:
    """Case-insensitive equality (or LIKE for globs / substrings) of a text column."""
    if not glob and not contains:
        return func.lower(expr) == value.lower()
    pattern = like_pattern(value.lower(), glob)
    if contains:
        pattern = f"%{pattern}%"
    return func.lower(expr).like(pattern, escape=ESCAPE)


def _imported(key: str, step=Producer):
    """A fact kept by an import pass in its settings (a model's name or hash, a tool's own spelling)."""
    return step.settings[key].as_string()


def _lineage_has_kind(kind_value: str, glob: bool):
    """Render ids whose lineage has a pass of the kind: its producers, then everything made from them."""
    seeds: Select[int | None] = select(col(Pass.render_id).label("render_id")).where(
        col(Pass.status) == "completed", col(Pass.render_id).is_not(None), text_match(col(Pass.kind), kind_value, glob))
    # Unnamed: SQLAlchemy gives each CTE its own name, so one query may hold several kind: terms.
    lineage = seeds.cte(recursive=True)
    child = aliased(Pass)
    lineage = lineage.union(
        select(col(child.render_id)).where(col(child.input_render_id) == lineage.c.render_id,
                                           col(child.status) == "completed", col(child.render_id).is_not(None)))
    return col(Render.id).in_(select(lineage.c.render_id))


# The earlier sampling passes of an imported multi-pass file (`tables.produces_render`): import passes
# with a position and no run, which the index on (run_id, position) finds alone.
Earlier = aliased(Pass, name="earlier_pass")
EARLIER = and_(col(Earlier.run_id).is_(None), col(Earlier.position).is_not(None), col(Earlier.kind) == "import",
               col(Earlier.status) == "completed")
# Field name -> the Pass attribute it compares, for the fields an earlier pass can match too.
PASS_FIELDS = {f.name: key for f in FIELDS.values() if getattr(f.column, "class_", None) is Pass
               and (key := getattr(f.column, "key", None)) not in (None, "run_id")}


def _or_earlier(name: str, build, dialect: str):
    """`build(column)` for the field's column of the producer, or of an earlier pass of the render."""
    found = build(_compared(name, dialect))
    if name not in PASS_FIELDS:
        return found
    earlier = getattr(Earlier, PASS_FIELDS[name])
    return or_(found, col(Render.id).in_(select(col(Earlier.render_id)).where(EARLIER, build(earlier))))


def _tag(value: str, glob: bool):
    return exists().where(col(Tag.render_id) == Render.id, text_match(col(Tag.name), value, glob))


def _model(value: str, glob: bool):
    imported = Earlier.settings["model"].as_string()
    earlier = select(col(Earlier.render_id)).where(EARLIER, text_match(imported, value, glob))
    return or_(text_match(col(ProducerModel.name), value, glob), text_match(_imported("model"), value, glob),
               col(Render.id).in_(earlier))


def _model_hash(value: str, glob: bool):
    # A1111's short hash is a prefix of the full sha256, so either matches.
    full = like_pattern(value.lower(), glob) + ("" if glob else "%")
    return or_(func.lower(ProducerModel.short_hash) == value.lower(),
               func.lower(ProducerModel.sha256).like(full, escape=ESCAPE),
               text_match(_imported("model_hash"), value, glob))


def _schedule(value: str, glob: bool, step=Producer):
    """The schedule type an import kept (A1111's or the tool's spelling), or the suffix of atlas's own
    sampler names ("DPM++ 2M Karras")."""
    if glob:
        return or_(text_match(_imported("schedule_type", step), value, True),
                   text_match(_imported("scheduler", step), value, True))
    canonical = samplers.schedule_type(value) or value.strip()
    names = sorted({value.strip().lower(), canonical.lower(),
                    *(foreign for foreign, known in samplers.FOREIGN_SCHEDULES.items() if known == canonical)})
    return or_(func.lower(_imported("schedule_type", step)).in_(names),
               func.lower(_imported("scheduler", step)).in_(names),
               func.lower(step.sampler).like(f"% {like_pattern(canonical.lower(), False)}", escape=ESCAPE))


def _sampler(value: str, glob: bool, step=Producer):
    """A sampler in A1111's spelling or any tool's: `sampler:"Euler a"` finds ComfyUI's `euler_ancestral`.

    A name that carries a schedule (A1111's old "DPM++ 2M Karras") also finds the sampler written
    with that schedule apart; the tool's own spelling is kept in settings["sampler_original"].
    """
    original = text_match(_imported("sampler_original", step), value, glob)
    if glob:
        return or_(text_match(col(step.sampler), value, True), original)
    same: ColumnElement[bool] = func.lower(step.sampler).in_(sorted(samplers.spellings(value)))
    schedule = samplers.normalise(value)[1]
    if schedule is not None:
        same = or_(func.lower(step.sampler) == value.strip().lower(), and_(same, _schedule(schedule, False, step)))
    return or_(same, original)


def _or_earlier_pass(matcher):
    """`matcher` over the producing pass, or over an earlier sampling pass of the render."""
    def match(value: str, glob: bool):
        earlier = select(col(Earlier.render_id)).where(EARLIER, matcher(value, glob, Earlier))
        return or_(matcher(value, glob), col(Render.id).in_(earlier))
    return match


def _seed_either(int_condition, text_condition):
    """A seed condition over the seed column and the text seed an import keeps when the seed is
    beyond the signed 64-bit column (settings["seed"], `importers.generation.set_seed`), on the
    producing pass or an earlier one. Either part may be None: it cannot match."""
    def on(step):
        parts = []
        if int_condition is not None:
            parts.append(int_condition(col(step.seed)))
        if text_condition is not None:
            parts.append(text_condition(_imported("seed", step)))
        return or_(*parts) if parts else false()
    return or_(on(Producer), col(Render.id).in_(select(col(Earlier.render_id)).where(EARLIER, on(Earlier))))


def _seed_match(value: int):
    if abs(value) <= MAX_INT:  # text seeds are all beyond that: only the column can hold it
        return _seed_either(lambda column: column == value, None)
    return _seed_either(None, lambda text: text == str(value))


def _digits_compare(text, op: str, bound: int):
    """`text` (a seed written in decimal, positive, no leading zeros) `op` `bound`: longer is larger,
    and at equal length the digits compare as text."""
    digits = str(bound)
    longer = {">": func.length(text) > len(digits), "<": func.length(text) < len(digits)}
    same = func.length(text) == len(digits)
    if op in (">", ">="):
        return or_(longer[">"], and_(same, text >= digits if op == ">=" else text > digits))
    return or_(longer["<"], and_(same, text <= digits if op == "<=" else text < digits))


def _seed_range(q: Range):
    """A seed range. The column part clamps the bounds to the column's range; text seeds (beyond
    2**63-1; the negative ones are left out of ranges) take part when the range reaches them."""
    low, high = (bound if isinstance(bound, int) else None for bound in (q.low, q.high))  # seeds are INT

    def column_range(column):
        parts = []
        if low is not None:
            parts.append(column >= low if q.low_inclusive else column > low)
        if high is not None and high <= MAX_INT:
            parts.append(column <= high if q.high_inclusive else column < high)
        return and_(*parts) if parts else column.is_not(None)

    def text_range(text):
        parts = [text.not_like("-%")]
        if low is not None and low > MAX_INT:
            parts.append(_digits_compare(text, ">=" if q.low_inclusive else ">", low))
        if high is not None:
            parts.append(_digits_compare(text, "<=" if q.high_inclusive else "<", high))
        return and_(*parts)

    column_part = column_range if low is None or low <= MAX_INT else None
    text_part = text_range if high is None or high > MAX_INT else None
    return _seed_either(column_part, text_part)


# Text fields whose condition is more than a comparison of their column: name -> (value, glob) -> condition.
MATCHERS = {"tag": _tag, "kind": _lineage_has_kind, "model": _model, "model-hash": _model_hash,
            "sampler": _or_earlier_pass(_sampler), "schedule": _or_earlier_pass(_schedule)}


def _compared(name: str, dialect: str):
    """The field's column, its index hidden on SQLite when it has few values (see `FEW_VALUES`)."""
    column = FIELDS[name].compared
    return column + 0 if dialect == "sqlite" and name in FEW_VALUES else column


def _match(q: Match, dialect: str):
    name, value = q.field, q.value
    if name == "seed" and isinstance(value, int):
        return _seed_match(value)
    if isinstance(value, (int, float)):
        return _or_earlier(name, lambda column: column == value, dialect)
    if name in MATCHERS:
        return MATCHERS[name](value, q.glob)
    contains = FIELDS[name].substring and not q.glob
    return _or_earlier(name, lambda column: text_match(column, value, q.glob, contains=contains), "")


# Columns with few distinct values: a range over them matches a large share of the catalogue, and
# SQLite (which plans without the LIMIT in mind) would read the whole range through the index, then
# sort it. `col + 0` hides the index, so it walks the sort order and stops after LIMIT rows instead.
FEW_VALUES = {f.name for f in FIELDS.values() if f.few_values}


def _range(q: Range, dialect: str):
    if q.field == "seed":
        return _seed_range(q)

    def build(col):
        parts = []
        if q.low is not None:
            parts.append(col >= q.low if q.low_inclusive else col > q.low)
        if q.high is not None:
            parts.append(col <= q.high if q.high_inclusive else col < q.high)
        return and_(*parts) if parts else col.is_not(None)

    return _or_earlier(q.field, build, dialect)


def _size(q: Size):
    parts = []
    if q.width is not None:
        parts.append(col(Render.width) == q.width)
    if q.height is not None:
        parts.append(col(Render.height) == q.height)
    return and_(*parts) if parts else true()


def _fulltext(q: FullText, dialect: str):
    if not fulltext.has_words(q.text):  # punctuation only: the tokenizers drop it, so match it literally
        pattern = f"%{like_pattern(q.text.lower(), False)}%"
        return or_(func.lower(Producer.prompt).like(pattern, escape=ESCAPE),
                   func.lower(Producer.negative_prompt).like(pattern, escape=ESCAPE))
    return fulltext.matching_pass_ids(dialect, q.text, q.prefix)


def condition(q, dialect: str):
    """The SQL condition for a query object."""
    if q is None:
        return true()
    if isinstance(q, And):
        return and_(*(condition(x, dialect) for x in q.queries))
    if isinstance(q, Or):
        return or_(*(condition(x, dialect) for x in q.queries))
    if isinstance(q, Not):
        inner = condition(q.query, dialect)
        # NULL-safe: a render without the field is "not equal" to any value.
        return func.coalesce(inner, false()) == false()
    if isinstance(q, Match):
        return _match(q, dialect)
    if isinstance(q, Range):
        return _range(q, dialect)
    if isinstance(q, Size):
        return _size(q)
    if isinstance(q, FullText):
        return _fulltext(q, dialect)
    if isinstance(q, Flag):
        return FIELDS[q.field].compared == true()
    raise TypeError(f"not a query object: {q!r}")


def filtered(query: Query, dialect: str):
    """The condition a render must meet: the query's, and not hidden unless the query names `hidden`."""
    found = condition(query.where, dialect)
    return found if query.shows_hidden else and_(found, col(Render.hidden) == false())


def base(query: Query, dialect: str, producer: bool = True):
    """The renders matching `query` (no order), each joined to its producing pass and model;
    `producer=False` leaves the joins out, for a caller that knows the condition names neither."""
    stmt = select(Render)
    if producer:
        producer_join = and_(col(Producer.render_id) == Render.id, produces_render(Producer))
        stmt = (stmt.outerjoin(Producer, producer_join)
                .outerjoin(ProducerModel, col(ProducerModel.id) == Producer.model_id))
    return stmt.where(filtered(query, dialect))


def _order(query: Query):
    order = []
    for s in query.sort:
        key = FIELDS[s.field].sort_key
        order.append(key.desc() if s.descending else key.asc())
    tie = col(Render.id).desc() if (query.sort and query.sort[0].descending) else col(Render.id).asc()
    return order + [tie]


def statement(text_or_query, dialect: str = "sqlite"):
    query = parse(text_or_query) if isinstance(text_or_query, str) else text_or_query
    return base(query, dialect).order_by(*_order(query))


def search(session: Session, text: str | Query, limit: int = 50, offset: int = 0) -> list[Render]:
    """Renders matching the query `text`, in its sort order (default newest first)."""
    dialect = session.get_bind().dialect.name
    stmt = statement(text, dialect).limit(limit).offset(offset)
    return list(session.scalars(stmt).unique())


def count(session: Session, text: str | Query) -> int:
    dialect = session.get_bind().dialect.name
    query = parse(text) if isinstance(text, str) else text
    inner = base(query, dialect).with_only_columns(Render.id).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()

