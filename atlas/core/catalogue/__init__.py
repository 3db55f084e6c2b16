"""The catalogue: the database, the file store and the home they live in, opened together."""

from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from atlas.core.catalogue.database import make_engine, upgrade
from atlas.core.catalogue.home import Home
from atlas.core.catalogue.store import Store


@dataclass
class Catalogue:
    home: Home
    engine: Engine
    store: Store

    @classmethod
    def open(cls, home: Home | str | None = None) -> "Catalogue":
        """Open (creating if needed) the catalogue and migrate its schema to head."""
        home = home if isinstance(home, Home) else Home.resolve(home)
        home.create()
        engine = make_engine(home.database_url)
        if upgrade(engine):
            from atlas.core.catalogue.licences import sync_builtin

            with Session(engine) as session:
                sync_builtin(session)
                session.commit()
        return cls(home=home, engine=engine, store=Store(home.store))

    @contextmanager
    def session(self):
        """A session whose objects stay readable after commit (records are built from them)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
