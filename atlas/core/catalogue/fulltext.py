"""Full-text search over prompts: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL.

SQLite: `pass_fts` is an external-content FTS5 table over `pass` (prompt, negative_prompt), kept in
sync by triggers, so every write path (generation, import, edits) stays indexed without knowing it.
PostgreSQL: an expression GIN index over `to_tsvector('simple', prompt || ' ' || negative_prompt)`;
queries use the very same expression so the planner picks the index.

User text only ever reaches the engine as a bound parameter, and on SQLite as one FTS5 *string*
(a double-quoted phrase with inner quotes doubled), so FTS operators in it are plain words.
"""

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.sql import ColumnElement

FTS_TABLE = "pass_fts"
PG_INDEX = "ix_pass_fulltext"
EXCLUDED_NAMES = {FTS_TABLE, PG_INDEX}  # alembic's drift check cannot see these (migrations/env.py)

# The DDL of the current schema, for tools that drop and recreate the index (tests/benchmarks).
# Migration 0002 holds its own frozen copy; tests/test_migrations.py checks the two agree.

SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(prompt, negative_prompt, content='pass', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER pass_fts_insert AFTER INSERT ON pass BEGIN
        INSERT INTO {FTS_TABLE}(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
    END""",
    f"""CREATE TRIGGER pass_fts_delete AFTER DELETE ON pass BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt, negative_prompt)
        VALUES ('delete', old.id, old.prompt, old.negative_prompt);
    END""",
    f"""CREATE TRIGGER pass_fts_update AFTER UPDATE OF prompt, negative_prompt ON pass BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt, negative_prompt)
        VALUES ('delete', old.id, old.prompt, old.negative_prompt);
        INSERT INTO {FTS_TABLE}(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
    END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",  # index passes that already exist
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS pass_fts_insert", "DROP TRIGGER IF EXISTS pass_fts_delete",
               "DROP TRIGGER IF EXISTS pass_fts_update", f"DROP TABLE IF EXISTS {FTS_TABLE}"]

PG_DDL = [f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON pass USING gin "
          "(to_tsvector('simple', prompt || ' ' || negative_prompt))"]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}"]

_WORD = re.compile(r"\w", re.UNICODE)


def fts5_phrase(text: str, prefix: bool = False) -> str:
    """`text` as one FTS5 phrase string: everything inside is literal; `*` after it for prefixes."""
    phrase = '"' + text.replace('"', '""') + '"'
    return phrase + " *" if prefix else phrase


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


# SQLAlchemy is imported inside the functions that build statements: `fts5_phrase` and `has_words`
# serve the SQLite reader of read commands (search/plain.py), which runs without it.


def pg_vector():
    from sqlalchemy import func, literal

    from atlas.core.catalogue.tables import Pass

    return func.to_tsvector(literal("simple", literal_execute=True),
                            Pass.prompt + literal(" ", literal_execute=True) + Pass.negative_prompt)


def matching_pass_ids(dialect: str, text: str, prefix: bool) -> "ColumnElement":
    """A condition on `Pass.id` true for passes whose prompt or negative prompt hold `text`."""
    from sqlalchemy import column, func, literal, select, table
    from sqlmodel import col

    from atlas.core.catalogue.tables import Pass

    if dialect == "sqlite":
        _fts = table(FTS_TABLE, column("rowid"))
        match = column(FTS_TABLE).op("MATCH")(fts5_phrase(text, prefix))
        return col(Pass.id).in_(select(_fts.c.rowid).select_from(_fts).where(match))
    if prefix:
        # to_tsquery syntax is not for users: only the word characters go in, as one bound lexeme.
        words = re.findall(r"\w+", text)
        simple = literal("simple", literal_execute=True)
        last = func.to_tsquery(simple, func.concat(words[-1], ":*"))
        if len(words) == 1:
            return pg_vector().op("@@")(last)
        return pg_vector().op("@@")(func.phraseto_tsquery(simple, " ".join(words[:-1])).op("<->")(last))
    return pg_vector().op("@@")(func.phraseto_tsquery(literal("simple", literal_execute=True), text))
