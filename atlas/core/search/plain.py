"""Query objects to one SQL string for SQLite's own `sqlite3` module: the read path of
`atlas search` and `atlas list`, which answer without loading SQLAlchemy (~400 ms of a cold start).

It says what `sql` says, condition for condition (the same joins, three-valued logic, wildcards,
earlier import passes, index hiding, default order and hidden-render rule); every value is a `?`
parameter. tests/test_plain_search.py runs both over many queries on one catalogue and requires
the same rows in the same order. PostgreSQL catalogues keep the SQLAlchemy path.
"""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from atlas.core import sampler_names as samplers
from atlas.core.catalogue.fulltext import FTS_TABLE, fts5_phrase, has_words
from atlas.core.search.fields import FIELDS, FLAGS
from atlas.core.search.parse import And, Flag, FullText, Match, Not, Or, Query, Range, Size, parse
from atlas.core.search.row import PAGE_SIZE, Row
from atlas.core.settings import MAX_INT

ESCAPE = "\\"
SQL_ESCAPE = "ESCAPE '\\'"
# Where a SQLite DATETIME keeps its text (SQLAlchemy's storage format, naive UTC).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

FROM = ("FROM render LEFT OUTER JOIN pass ON pass.render_id = render.id AND pass.status = 'completed' "
        "AND (pass.kind != 'import' OR pass.position IS NULL) "
        "LEFT OUTER JOIN model AS producer_model ON producer_model.id = pass.model_id")


def _setting(key: str, step: str = "pass") -> str:
    return f"CAST(JSON_EXTRACT({step}.settings, '$.\"{key}\"') AS VARCHAR)"


# Field name -> the SQL a condition compares (as `columns.COLUMNS`); FLAGS compare with 1.
COLUMNS = {
    "id": "render.id", "prompt": "pass.prompt", "negative": "pass.negative_prompt", "seed": "pass.seed",
    "rng": _setting("rng"), "steps": "pass.steps", "sampler": "pass.sampler", "cfg": "pass.cfg",
    "width": "render.width", "height": "render.height", "model": "producer_model.name",
    "licence": "render.licence_id", "model-licence": "producer_model.licence_id", "denoise": "pass.denoise",
    "created": "render.created", "author": "render.author", "run": "pass.run_id", "tool": "render.tool",
    "rating": "render.rating", "hidden": "render.hidden",
}
ORDERS = {"size": "render.width * render.height", "model": f"coalesce(producer_model.name, {_setting('model')})"}
# The pass column of the fields an earlier import pass may match too (`sql.PASS_FIELDS`).
PASS_FIELDS = {"prompt": "prompt", "negative": "negative_prompt", "seed": "seed", "steps": "steps",
               "sampler": "sampler", "cfg": "cfg", "denoise": "denoise"}
EARLIER = ("earlier_pass.run_id IS NULL AND earlier_pass.position IS NOT NULL AND earlier_pass.kind = 'import' "
           "AND earlier_pass.status = 'completed'")
FEW_VALUES = {f.name for f in FIELDS.values() if f.few_values}

ROW_COLUMNS = (
    "render.id, render.created, render.width, render.height, "
    f"coalesce(producer_model.name, {_setting('model')}), pass.sampler, pass.steps, pass.cfg, pass.seed, "
    "render.licence_id, pass.prompt, pass.kind, pass.negative_prompt, pass.denoise, render.format, render.tool, "
    "render.author, render.sha256, render.store_path, render.linked_path, render.rating, render.hidden, "
    f"{_setting('seed')}")
# The `Row` field each of ROW_COLUMNS fills, in order.
ROW_FIELDS = ("id", "created", "width", "height", "model", "sampler", "steps", "cfg", "seed", "licence", "prompt",
              "kind", "negative_prompt", "denoise", "format", "tool", "author", "sha256", "store_path", "linked_path",
              "rating", "hidden", "seed_text")


class Builder:
    """Collects the SQL text and its parameters of one statement. Parameters are named: a piece
    may be built before the text that ends up in front of it."""

    def __init__(self):
        self.params: dict[str, object] = {}

    def bind(self, value) -> str:
        if isinstance(value, datetime):  # as SQLAlchemy binds a UTC DateTime on SQLite
            value = value.astimezone(UTC).strftime(SQLITE_TIME)
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    # ---- text ----------------------------------------------------------------------------------

    def text_match(self, expr: str, value: str, glob: bool, contains: bool = False) -> str:
        if not glob and not contains:
            return f"lower({expr}) = {self.bind(value.lower())}"
        pattern = like_pattern(value.lower(), glob)
        if contains:
            pattern = f"%{pattern}%"
        return f"lower({expr}) LIKE {self.bind(pattern)} {SQL_ESCAPE}"

    def in_list(self, expr: str, values: list[str]) -> str:
        return f"lower({expr}) IN ({', '.join(self.bind(v) for v in values)})"

    def earlier(self, build) -> str:
        """Render ids with an earlier import pass for which `build(step)` holds."""
        return (f"render.id IN (SELECT earlier_pass.render_id FROM pass AS earlier_pass WHERE {EARLIER} "
                f"AND {build('earlier_pass')})")

    def or_earlier(self, name: str, build, dialect_hiding: bool) -> str:
        column = COLUMNS[name]
        if dialect_hiding and name in FEW_VALUES:
            column = f"{column} + 0"
        found = build(column)
        if name not in PASS_FIELDS:
            return found
        return f"({found} OR {self.earlier(lambda step: build(f'{step}.{PASS_FIELDS[name]}'))})"

    # ---- matchers (sql.MATCHERS) -------------------------------------------------------------------

    def tag(self, value: str, glob: bool) -> str:
        named = self.text_match("tag.name", value, glob)
        return f"(EXISTS (SELECT * FROM tag WHERE tag.render_id = render.id AND {named}))"

    def kind(self, value: str, glob: bool) -> str:
        first = self.text_match("kind_pass.kind", value, glob)
        return ("render.id IN (WITH RECURSIVE lineage(render_id) AS ("
                "SELECT kind_pass.render_id FROM pass AS kind_pass WHERE kind_pass.status = 'completed' "
                f"AND kind_pass.render_id IS NOT NULL AND {first} "
                "UNION SELECT child.render_id FROM pass AS child, lineage WHERE child.input_render_id = "
                "lineage.render_id AND child.status = 'completed' AND child.render_id IS NOT NULL) "
                "SELECT lineage.render_id FROM lineage)")

    def model(self, value: str, glob: bool) -> str:
        return (f"({self.text_match('producer_model.name', value, glob)} OR "
                f"{self.text_match(_setting('model'), value, glob)} OR "
                f"{self.earlier(lambda step: self.text_match(_setting('model', step), value, glob))})")

    def model_hash(self, value: str, glob: bool) -> str:
        # A1111's short hash is a prefix of the full sha256, so either matches.
        full = like_pattern(value.lower(), glob) + ("" if glob else "%")
        return (f"(lower(producer_model.short_hash) = {self.bind(value.lower())} OR "
                f"lower(producer_model.sha256) LIKE {self.bind(full)} {SQL_ESCAPE} OR "
                f"{self.text_match(_setting('model_hash'), value, glob)})")

    def schedule(self, value: str, glob: bool, step: str = "pass") -> str:
        if glob:
            return (f"({self.text_match(_setting('schedule_type', step), value, True)} OR "
                    f"{self.text_match(_setting('scheduler', step), value, True)})")
        canonical = samplers.schedule_type(value) or value.strip()
        names = sorted({value.strip().lower(), canonical.lower(),
                        *(foreign for foreign, known in samplers.FOREIGN_SCHEDULES.items() if known == canonical)})
        suffix = f"% {like_pattern(canonical.lower(), False)}"
        return (f"({self.in_list(_setting('schedule_type', step), names)} OR "
                f"{self.in_list(_setting('scheduler', step), names)} OR "
                f"lower({step}.sampler) LIKE {self.bind(suffix)} {SQL_ESCAPE})")

    def sampler(self, value: str, glob: bool, step: str = "pass") -> str:
        if glob:
            return (f"({self.text_match(f'{step}.sampler', value, True)} OR "
                    f"{self.text_match(_setting('sampler_original', step), value, glob)})")
        same = self.in_list(f"{step}.sampler", sorted(samplers.spellings(value)))
        schedule = samplers.normalise(value)[1]
        if schedule is not None:
            same = (f"(lower({step}.sampler) = {self.bind(value.strip().lower())} OR "
                    f"({same} AND {self.schedule(schedule, False, step)}))")
        return f"({same} OR {self.text_match(_setting('sampler_original', step), value, glob)})"

    def with_earlier(self, matcher, value: str, glob: bool) -> str:
        return f"({matcher(value, glob)} OR {self.earlier(lambda step: matcher(value, glob, step))})"

    def matcher(self, name: str, value: str, glob: bool) -> str:
        if name == "tag":
            return self.tag(value, glob)
        if name == "kind":
            return self.kind(value, glob)
        if name == "model":
            return self.model(value, glob)
        if name == "model-hash":
            return self.model_hash(value, glob)
        if name == "sampler":
            return self.with_earlier(self.sampler, value, glob)
        return self.with_earlier(self.schedule, value, glob)

    # ---- query objects ---------------------------------------------------------------------------

    def condition(self, q) -> str:
        if q is None:
            return "1"
        if isinstance(q, And):
            return "(" + " AND ".join(self.condition(x) for x in q.queries) + ")"
        if isinstance(q, Or):
            return "(" + " OR ".join(self.condition(x) for x in q.queries) + ")"
        if isinstance(q, Not):
            return f"(coalesce({self.condition(q.query)}, 0) = 0)"
        if isinstance(q, Match):
            return self.match(q)
        if isinstance(q, Range):
            return self.range(q)
        if isinstance(q, Size):
            parts = []
            if q.width is not None:
                parts.append(f"render.width = {self.bind(q.width)}")
            if q.height is not None:
                parts.append(f"render.height = {self.bind(q.height)}")
            return "(" + " AND ".join(parts) + ")" if parts else "1"
        if isinstance(q, FullText):
            return self.fulltext(q)
        if isinstance(q, Flag) and q.field in FLAGS:
            return f"{COLUMNS[q.field]} = 1"
        raise TypeError(f"not a query object: {q!r}")

    # ---- seeds (as sql._seed_match, sql._seed_range) ---------------------------------------------

    def seed_either(self, int_condition, text_condition) -> str:
        """Over the seed column and the text seed an import keeps beyond the 64-bit column, on the
        producing pass or an earlier one; a part that is None cannot match."""
        def on(step: str) -> str:
            parts = []
            if int_condition is not None:
                parts.append(int_condition(f"{step}.seed"))
            if text_condition is not None:
                parts.append(text_condition(_setting("seed", step)))
            return "(" + " OR ".join(parts) + ")" if parts else "0"
        return f"({on('pass')} OR {self.earlier(on)})"

    def seed_match(self, value: int) -> str:
        if abs(value) <= MAX_INT:
            return self.seed_either(lambda column: f"{column} = {self.bind(value)}", None)
        return self.seed_either(None, lambda text: f"{text} = {self.bind(str(value))}")

    def digits_compare(self, text: str, op: str, bound: int) -> str:
        """Decimal text against `bound`: longer is larger; at equal length the digits compare as text."""
        digits = str(bound)
        longer = f"length({text}) {'>' if op in ('>', '>=') else '<'} {self.bind(len(digits))}"
        same = f"length({text}) = {self.bind(len(digits))} AND {text} {op} {self.bind(digits)}"
        return f"({longer} OR ({same}))"

    def seed_range(self, q: Range) -> str:
        low, high = (bound if isinstance(bound, int) else None for bound in (q.low, q.high))

        def column_range(column: str) -> str:
            parts = []
            if low is not None:
                parts.append(f"{column} {'>=' if q.low_inclusive else '>'} {self.bind(low)}")
            if high is not None and high <= MAX_INT:
                parts.append(f"{column} {'<=' if q.high_inclusive else '<'} {self.bind(high)}")
            return "(" + " AND ".join(parts) + ")" if parts else f"{column} IS NOT NULL"

        def text_range(text: str) -> str:
            parts = [f"{text} NOT LIKE '-%'"]
            if low is not None and low > MAX_INT:
                parts.append(self.digits_compare(text, ">=" if q.low_inclusive else ">", low))
            if high is not None:
                parts.append(self.digits_compare(text, "<=" if q.high_inclusive else "<", high))
            return "(" + " AND ".join(parts) + ")"

        return self.seed_either(column_range if low is None or low <= MAX_INT else None,
                                text_range if high is None or high > MAX_INT else None)

    def match(self, q: Match) -> str:
        name, value = q.field, q.value
        if name == "seed" and isinstance(value, int):
            return self.seed_match(value)
        if isinstance(value, (int, float)):
            return self.or_earlier(name, lambda column: f"{column} = {self.bind(value)}", True)
        if name in ("tag", "kind", "model", "model-hash", "sampler", "schedule"):
            return self.matcher(name, value, q.glob)
        contains = FIELDS[name].substring and not q.glob
        return self.or_earlier(name, lambda column: self.text_match(column, value, q.glob, contains), False)

    def range(self, q: Range) -> str:
        if q.field == "seed":
            return self.seed_range(q)

        def build(column: str) -> str:
            parts = []
            if q.low is not None:
                parts.append(f"{column} {'>=' if q.low_inclusive else '>'} {self.bind(q.low)}")
            if q.high is not None:
                parts.append(f"{column} {'<=' if q.high_inclusive else '<'} {self.bind(q.high)}")
            return "(" + " AND ".join(parts) + ")" if parts else f"{column} IS NOT NULL"

        return self.or_earlier(q.field, build, True)

    def fulltext(self, q: FullText) -> str:
        if not has_words(q.text):  # punctuation only: the tokenizers drop it, so match it literally
            pattern = f"%{like_pattern(q.text.lower(), False)}%"
            return (f"(lower(pass.prompt) LIKE {self.bind(pattern)} {SQL_ESCAPE} OR "
                    f"lower(pass.negative_prompt) LIKE {self.bind(pattern)} {SQL_ESCAPE})")
        return (f"pass.id IN (SELECT {FTS_TABLE}.rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH "
                f"{self.bind(fts5_phrase(q.text, q.prefix))})")

    def where(self, query: Query) -> str:
        found = self.condition(query.where)
        return found if query.shows_hidden else f"{found} AND render.hidden = 0"


def like_pattern(value: str, glob: bool) -> str:
    escaped = value.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return escaped.replace("*", "%") if glob else escaped


def sort_key(name: str) -> str:
    field = FIELDS[name]
    if not field.sortable:
        raise KeyError(f"search field {name!r} is not sortable")
    return ORDERS.get(name, COLUMNS.get(name, ""))


def order(query: Query, sort: str | None = None, descending: bool = True) -> str:
    """ORDER BY of the query's own sorts, or of a chosen column `sort` (as `rows.statement`)."""
    if sort is not None:
        direction = "DESC" if descending else "ASC"
        return f"ORDER BY {sort_key(sort)} {direction}, render.id {direction}"
    keys = [f"{sort_key(s.field)} {'DESC' if s.descending else 'ASC'}" for s in query.sort]
    tie = "DESC" if query.sort and query.sort[0].descending else "ASC"
    return "ORDER BY " + ", ".join([*keys, f"render.id {tie}"])


def page_statement(text: str | Query = "", offset: int = 0, limit: int = PAGE_SIZE, sort: str | None = None,
                   descending: bool = True) -> tuple[str, dict[str, object]]:
    query = parse(text) if isinstance(text, str) else text
    builder = Builder()
    where = builder.where(query)
    sql = f"SELECT {ROW_COLUMNS} {FROM} WHERE {where} {order(query, sort, descending)} LIMIT :limit OFFSET :offset"
    return sql, {**builder.params, "limit": limit, "offset": offset}


def _created(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)  # stored naive, in UTC


def page(connection: sqlite3.Connection, text: str | Query = "", offset: int = 0, limit: int = PAGE_SIZE,
         sort: str | None = None, descending: bool = True, tags: bool = False) -> list[Row]:
    """`rows.page` over a plain sqlite3 connection: the same rows, in the same order."""
    sql, params = page_statement(text, offset, limit, sort, descending)
    found = connection.execute(sql, params).fetchall()
    names = tags_of(connection, [values[0] for values in found]) if tags else {}
    made = []
    for values in found:
        row = dict(zip(ROW_FIELDS, values, strict=True))
        made.append(Row(**{**row, "created": _created(row["created"]), "prompt": row["prompt"] or "",
                           "negative_prompt": row["negative_prompt"] or "", "hidden": bool(row["hidden"]),
                           "tags": tuple(names.get(row["id"], ()))}))
    return made


def tags_of(connection: sqlite3.Connection, render_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if render_ids:
        marks = ", ".join("?" * len(render_ids))
        for render_id, name in connection.execute(
                f"SELECT render_id, name FROM tag WHERE render_id IN ({marks}) ORDER BY name", render_ids):
            found.setdefault(render_id, []).append(name)
    return found


def count(connection: sqlite3.Connection, text: str | Query = "") -> int:
    """`rows.count` over a plain sqlite3 connection."""
    if isinstance(text, str) and not text.strip():
        return connection.execute("SELECT count(*) FROM render WHERE render.hidden = 0").fetchone()[0]
    query = parse(text) if isinstance(text, str) else text
    builder = Builder()
    where = builder.where(query)
    return connection.execute(f"SELECT count(*) FROM (SELECT render.id {FROM} WHERE {where})",
                              builder.params).fetchone()[0]


def file_of(store: Path, row: Row) -> Path | None:
    """Where a row's bytes are, as `Catalogue.file_of` says."""
    if row.store_path:
        return store / row.store_path
    return Path(row.linked_path) if row.linked_path else None
