"""Signing renders as the catalogue writes them: the hook `finish_pass` calls last.

A pass with an input render (img2img, outpaint, upscale: `Pass.input_render_id`) is signed as an
edit with that render's stored file as its `parentOf` ingredient, in the file's own format: an
imported file with another tool's C2PA manifest is chained to as it is. A pass without one is
signed as created. The render row keeps who signed and the hash of the manifest store embedded
(`signed_by`, `signer_sha256`, `manifest_hash`), so `verify` can tell a stripped or re-signed file.
"""

import hashlib

from sqlmodel import col, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Licence, Render
from atlas.core.trust.keys import Identity, signing_identity


def input_file(catalogue: Catalogue, input_render_id: int | None) -> tuple[bytes, str] | None:
    """The stored bytes and format of the input render, or None (no input, or its file is gone)."""
    if input_render_id is None:
        return None
    with catalogue.session() as session:
        render = session.get(Render, input_render_id)
        path = catalogue.file_of(render) if render else None
        fmt = render.format if render else "png"
    return (path.read_bytes(), fmt) if path is not None and path.exists() else None


def model_licence_ids(record: dict) -> list[str]:
    """The licences of the models (checkpoints and upscalers) a record's lineage names."""
    ids = []
    for step in record.get("lineage") or []:
        for key in ("model", "upscaler"):
            licence = ((step.get(key) or {}).get("licence") or {}).get("id")
            if licence and licence not in ids:
                ids.append(licence)
    return ids


def training_for(catalogue: Catalogue, record: dict, identity: Identity) -> dict:
    """The training-and-mining entries for a render: the configured choice, bound by what the
    licences of its models restrict (credentials.training_mining)."""
    from atlas.core.files import credentials

    ids = model_licence_ids(record)
    with catalogue.session() as session:
        rows = session.exec(select(Licence).where(col(Licence.id).in_(ids))).all() if ids else []
        restrictions = [r for row in rows for r in row.restrictions or []]
    return credentials.training_mining(identity.training_mining, restrictions, identity.training_constraint)


def signer_facts(identity: Identity) -> tuple[str, str]:
    """(common name, sha256 fingerprint of the DER) of the signer certificate, the chain's first."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    cert = x509.load_pem_x509_certificates(identity.chain_pem)[0]
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else cert.subject.rfc4514_string()
    return common_name, hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def sign_render(catalogue: Catalogue, data: bytes, record: dict, input_render_id: int | None,
                render: Render | None = None) -> bytes:
    """`data` with Content Credentials when signing is on (see keys.signing_identity), else as is;
    `render` (the row being written) is told who signed it and the manifest store's hash."""
    identity = signing_identity(catalogue.home)
    if identity is None:
        return data
    from atlas.core.files import credentials

    parent = input_file(catalogue, input_render_id)
    signed, manifest = credentials.sign_with_manifest(
        data, record, identity, parent=parent[0] if parent else None, parent_fmt=parent[1] if parent else "png",
        training=training_for(catalogue, record, identity))
    if render is not None:
        render.signed_by, render.signer_sha256 = signer_facts(identity)
        render.manifest_hash = credentials.manifest_hash(manifest)
    return signed
