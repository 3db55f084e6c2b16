"""`atlas inspect FILE`: everything embedded in any image, checked against the home's trust anchor."""

import os

from atlas.core.catalogue.home import Home
from atlas.core.files.inspect import inspect_file
from atlas.core.trust.keys import trust_anchor


def inspect(path: str | os.PathLike, home: Home | str | None = None) -> dict:
    """The file's embedded metadata; C2PA manifests are Trusted when signed under `home`'s anchor.
    The catalogue is not opened: any file can be inspected, also where no home exists yet."""
    home = home if isinstance(home, Home) else Home.resolve(home)
    return inspect_file(path, trust_anchor(home))
