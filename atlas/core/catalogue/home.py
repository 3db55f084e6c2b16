"""The atlas home: catalogue database, content-addressed store, models, keys and config."""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas.core.errors import BadInput


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("atlas", appauthor=False))


@dataclass(frozen=True)
class Home:
    root: Path
    # config.toml as last read, with the stat it was read at: see `config()`.
    _config: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> "Home":
        """`--home`, else `ATLAS_HOME`, else the platform data directory."""
        chosen = home or os.environ.get("ATLAS_HOME") or default_home()
        return cls(Path(chosen).expanduser().resolve())

    @property
    def database_path(self) -> Path:
        return self.root / "atlas.db"

    @property
    def database_url(self) -> str:
        return os.environ.get("ATLAS_DATABASE_URL") or f"sqlite:///{self.database_path}"

    @property
    def database_url_from_env(self) -> bool:
        return bool(os.environ.get("ATLAS_DATABASE_URL"))

    @property
    def store(self) -> Path:
        """The content-addressed store: `ATLAS_STORE`, else config `[store] path`, else `home/store`.

        A team points every machine at one shared folder (an NFS/SMB mount); the catalogue keeps
        store paths relative to this root, so each machine may mount it where it likes. A relative
        setting is taken from the home (config) or the working directory (environment)."""
        chosen = os.environ.get("ATLAS_STORE")
        if chosen:
            return Path(chosen).expanduser().resolve()
        configured = self.config().get("store", {}).get("path")
        if configured:
            return (self.root / Path(configured).expanduser()).resolve()
        return self.root / "store"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def templates(self) -> Path:
        """User overrides of the shipped Jinja2 templates."""
        return self.root / "templates"

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    def config(self) -> dict[str, Any]:
        """The user's config.toml, validated against schemas/config.schema.json.

        Read and validated once for the life of this Home (one Catalogue, one command); read again
        only when the file itself changed (its size, mtime or inode), so an edit is still seen.
        Callers share the returned dict: read it, do not change it.
        """
        try:
            st = self.config_path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._config.get("stamp") != stamp:
            self._config.clear()
            self._config.update(stamp=stamp, data=self._read_config())
        return self._config["data"]

    def _read_config(self) -> dict[str, Any]:
        import tomllib  # only when a config.toml exists

        try:
            data = tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise BadInput(f"{self.config_path}: not valid TOML: {exc}") from None
        from atlas.core.schemas import validate

        validate("config", data, what=str(self.config_path))
        return data

    def read_only(self) -> bool:
        """Whether this is an existing home atlas cannot write to (a read-only mount, a colleague's
        folder): its catalogue is then opened for reading only. Not for a database elsewhere."""
        return (not self.database_url_from_env and self.database_path.is_file()
                and not os.access(self.root, os.W_OK))

    def create(self) -> None:
        for folder in (self.root, self.store, self.models):
            folder.mkdir(parents=True, exist_ok=True)
        if not self.keys.is_dir():  # private keys live here: owner only, whatever the umask
            self.keys.mkdir(mode=0o700)
            os.chmod(self.keys, 0o700)
