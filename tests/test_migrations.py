"""Migrations are frozen: each holds its own DDL, so editing atlas's modules never changes an old one."""

import ast
from pathlib import Path

import pytest

from atlas.core.catalogue import fulltext

VERSIONS = sorted((Path(__file__).resolve().parent.parent / "migrations" / "versions").glob("*.py"))


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
    return found


def test_there_are_migrations_to_check():
    assert [p.name for p in VERSIONS][:2] == ["0001_initial_schema.py", "0002_search.py"]


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.name)
def test_a_migration_imports_nothing_from_atlas(path):
    from_atlas = [m for m in imported_modules(path) if m == "atlas" or m.startswith(("atlas.", "."))]
    assert from_atlas == [], f"{path.name} imports {from_atlas}: copy the DDL into the migration instead"


def test_the_import_check_sees_an_import_inside_a_function(tmp_path):
    sneaky = tmp_path / "0099_x.py"
    sneaky.write_text("def upgrade():\n    from atlas.core.catalogue import fulltext\n")
    assert imported_modules(sneaky) == ["atlas.core.catalogue"]


def test_fulltext_describes_the_schema_the_migrations_create(catalogue):
    # fulltext's DDL is what tools recreate the index with (tests/benchmarks): it must stay equal to
    # what the migrations made; changing it needs a new migration, not an edit of 0002.
    with catalogue.engine.connect() as conn:
        made = dict(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE name = 'pass_fts' OR type = 'trigger'").all())
    expected = {statement.split()[2]: statement for statement in fulltext.SQLITE_DDL[1:4]}
    expected[fulltext.FTS_TABLE] = fulltext.SQLITE_DDL[0]
    assert made == expected
