"""The newest migration. Read commands compare the database against this constant instead of loading
every migration script (~80 ms); tests/test_catalogue.py checks it equals Alembic's computed head.
No SQLAlchemy here: the SQLite reader (`reader.py`) checks it too."""

HEAD = "0007_ratings"
