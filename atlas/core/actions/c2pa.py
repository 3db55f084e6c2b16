"""The C2PA state of a render's file: a quick look for the screen, then the checked verdict."""

from pathlib import Path

from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput
from atlas.core.files import png
from atlas.core.record.build import get_render


def c2pa_state(path: Path | None) -> str:
    """Whether the file carries a C2PA manifest (PNG `caBX` chunk); verifying it is `verify`'s job."""
    if path is None or not path.exists():
        return "file missing"
    try:
        with open(path, "rb") as fh:
            if fh.read(8) != png.SIGNATURE:
                return "unknown (not a PNG)"
            for span, _ in png.scan_file(fh, str(path), check_crc=False):  # image data is skipped, not read
                if span.type == b"caBX":
                    return "signed (checking the signature…)"
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    except BadInput:
        pass  # a broken PNG: what it holds after the break is unknown; `verify` reports the damage
    return "not signed"


def c2pa_description(catalogue: Catalogue, render_id: int | str) -> str:
    """The C2PA state of a render's file in words: validated against the home's trust anchor,
    with the signer. Reads and checks the manifest, so callers run it off the UI thread."""
    from atlas.core.files import credentials
    from atlas.core.trust.keys import trust_anchor

    with catalogue.session() as session:
        render = get_render(session, render_id)
    path = catalogue.file_of(render)
    if path is None or not path.is_file():
        return "file missing"
    found = credentials.read(path, trust_anchor(catalogue.home), credentials.MIME.get(render.format))
    if found is None:
        return "not signed"
    state = found["validation_state"]
    manifest = (found.get("manifests") or [{}])[0]
    signer = f", signed by {manifest['signer']}" if manifest.get("signer") else ""
    issuer = f" (issuer {manifest['issuer']})" if manifest.get("issuer") else ""
    chain = f", {len(found['manifests'])} manifests in the chain" if len(found.get("manifests", [])) > 1 else ""
    record = ", carries the atlas record" if manifest.get("record") is not None else ""
    training = _training_words(manifest.get("training_mining"))
    failures = f"; {'; '.join(found['failures'][:3])}" if found["failures"] else ""
    return f"{state}{signer}{issuer}{chain}{record}{training}{failures}"


def _training_words(entries: dict | None) -> str:
    """The training-and-mining choice in a few words: one word when every use has the same."""
    if not entries:
        return ""
    uses = {name.split(".", 1)[-1]: (entry or {}).get("use") for name, entry in entries.items()}
    if len(set(uses.values())) == 1:
        return f", AI training and mining {next(iter(uses.values()))}"
    return ", " + ", ".join(f"{name} {use}" for name, use in sorted(uses.items()))
