"""A render's recorded signature held against its stored file (`verify`).

finish_pass records who signed a render and the sha256 of the manifest store it embedded
(trust/signing.py). A file recorded as signed that has no manifest, another signer or another
manifest store was stripped or re-signed after atlas wrote it: updating the render's row to the
new file's sha256 does not hide that, since the signature columns still say what was signed.
"""

import os
from pathlib import Path

from atlas.core.catalogue.tables import Render
from atlas.core.errors import BadInput
from atlas.core.files import png
from atlas.core.files.credentials import manifest_hash

MANIFEST_CHUNK = b"caBX"  # where C2PA keeps the manifest store in a PNG


def png_manifest_store(path: Path) -> bytes | None:
    """The C2PA manifest store (JUMBF) of a PNG file as embedded, or None when it has none."""
    with open(path, "rb") as fh:
        for span, body in png.scan_file(fh, str(path), check_crc=False):
            if span.type == MANIFEST_CHUNK:
                if body is None:  # larger than scan_file loads: read it here
                    fh.seek(span.offset + 8)
                    body = fh.read(span.length)
                return body
    return None


def signature_problems(render: Render, path: Path, stored: Path | None, c2pa: dict | None) -> list[str]:
    """What is wrong with `path`, the stored file `stored` of `render`, against the signature the
    catalogue recorded (none for a render never signed, or a file other than the stored one: an
    export carries a manifest of its own). `c2pa` is credentials.read's verdict on the file."""
    if not render.signed_by or stored is None or not os.path.exists(stored) or not os.path.samefile(path, stored):
        return []
    recorded = f"the catalogue records it as signed by {render.signed_by!r}"
    if c2pa is None:
        return [f"{recorded}, but the file carries no C2PA manifest (stripped after signing)"]
    signer = (c2pa.get("manifests") or [{}])[0].get("signer")
    if signer != render.signed_by:
        return [f"{recorded}, but its C2PA manifest is signed by {signer!r}"]
    try:
        store = png_manifest_store(path) if render.format == "png" else None
    except (OSError, BadInput) as exc:
        return [f"its C2PA manifest store cannot be read: {exc}"]
    if render.manifest_hash and store is not None and manifest_hash(store) != render.manifest_hash:
        return [f"its C2PA manifest store (sha256 {manifest_hash(store)}) is not the one atlas signed "
                f"(sha256 {render.manifest_hash}): the file was signed again after atlas wrote it"]
    return []
