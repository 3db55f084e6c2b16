"""Signing renders as the catalogue writes them: the hook `finish_pass` calls last.

A pass with an input render (img2img, outpaint, upscale: `Pass.input_render_id`) is signed as an
edit with that render's stored file as its `parentOf` ingredient; a pass without one as created.
"""

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Render
from atlas.core.trust.keys import signing_identity


def input_bytes(catalogue: Catalogue, input_render_id: int | None) -> bytes | None:
    if input_render_id is None:
        return None
    with catalogue.session() as session:
        render = session.get(Render, input_render_id)
        path = catalogue.file_of(render) if render else None
    return path.read_bytes() if path is not None and path.exists() else None


def sign_render(catalogue: Catalogue, data: bytes, record: dict, input_render_id: int | None) -> bytes:
    """`data` with Content Credentials when signing is on (see keys.signing_identity), else as is."""
    identity = signing_identity(catalogue.home)
    if identity is None:
        return data
    from atlas.core.files import credentials

    parent = input_bytes(catalogue, input_render_id)
    return credentials.sign(data, record, identity, parent=parent)
