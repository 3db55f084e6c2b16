"""C2PA Content Credentials found in an imported file, kept in its record (the import pass's
settings["c2pa"], shape in schemas/provenance.schema.json `$defs/c2pa_found`).

Kept from the active manifest: its claim generator, the digital source type its actions declare,
the actions, the ingredients (title and relationship) and c2pa's validation state with the codes
of what failed. No trust anchor is given: a foreign signer is at best "Valid" (sound signature,
signer not known); whether to trust it is `atlas verify`'s question, not the importer's.
"""

import io
import json

# Where each format keeps a manifest store (JUMBF boxes labelled "c2pa"): PNG's caBX chunk, JPEG's
# APP11 segments, WebP's C2PA chunk. A file without the label has no manifest: c2pa is not asked.
MARKER = b"c2pa"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
MAX_LISTED = 50  # actions or ingredients kept per manifest: a hostile manifest may list thousands
MAX_TEXT = 500  # characters kept of any one text


def _text(value) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value else None


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _claim_generator(manifest: dict) -> str | None:
    """`claim_generator_info` (name and version, C2PA 1.3+), else the older `claim_generator` text."""
    for info in manifest.get("claim_generator_info") or []:
        if isinstance(info, dict) and _text(info.get("name")):
            version = _text(info.get("version"))
            return f"{info['name']} {version}"[:MAX_TEXT] if version else _text(info["name"])
    return _text(manifest.get("claim_generator"))


def _agent(action: dict) -> str | None:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        return _text(agent.get("name"))
    return _text(agent)


def _actions(manifest: dict) -> list[dict]:
    found = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = _object(assertion.get("data"))
        for action in data.get("actions") or []:
            if isinstance(action, dict) and _text(action.get("action")):
                entry = {"action": _text(action["action"]),
                         "digital_source_type": _text(action.get("digitalSourceType")),
                         "software_agent": _agent(action), "description": _text(action.get("description"))}
                found.append({key: value for key, value in entry.items() if value is not None})
    return found[:MAX_LISTED]


def _ingredients(manifest: dict) -> list[dict]:
    found = []
    for ingredient in manifest.get("ingredients") or []:
        if isinstance(ingredient, dict):
            found.append({"title": _text(ingredient.get("title")),
                          "relationship": _text(ingredient.get("relationship")) or "componentOf"})
    return found[:MAX_LISTED]


def summary(store: dict, state: str | None, failures: list[str]) -> dict:
    """What the record keeps of a manifest store (c2pa's JSON report) and its validation."""
    label = store.get("active_manifest")
    manifest = _object(_object(store.get("manifests")).get(label) if isinstance(label, str) else None)
    actions = _actions(manifest)
    source_type = next((a["digital_source_type"] for a in actions if "digital_source_type" in a), None)
    signature = _object(manifest.get("signature_info"))
    return {"claim_generator": _claim_generator(manifest), "title": _text(manifest.get("title")),
            "digital_source_type": source_type, "actions": actions, "ingredients": _ingredients(manifest),
            "signer": _text(signature.get("common_name")) or _text(signature.get("issuer")),
            "validation_state": state or "Invalid", "failures": failures[:MAX_LISTED],
            "manifests": len(store.get("manifests") or {})}


def read(data: bytes, fmt: str) -> dict | None:
    """The Content Credentials of a file's bytes (`fmt`: png, jpeg or webp), or None when it has none.

    A manifest c2pa cannot read is kept as such (state Invalid, with c2pa's reason), never raised.
    """
    if MARKER not in data:
        return None
    import c2pa

    try:
        with c2pa.Context.from_dict({"verify": {"verify_trust": False}}) as context:
            reader = c2pa.Reader.try_create(MIME[fmt], io.BytesIO(data), None, context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state()
    except (c2pa.C2paError, ValueError) as exc:  # ValueError: a report that is not JSON
        text = str(exc)
        if "JumbfNotFound" in text or "ManifestNotFound" in text:  # the bytes "c2pa" without a store
            return None
        return {"claim_generator": None, "title": None, "digital_source_type": None, "actions": [],
                "ingredients": [], "signer": None, "validation_state": "Invalid",
                "failures": [f"unreadable manifest: {text[:MAX_TEXT]}"], "manifests": 0}
    failures = [f"{item.get('code')}" for item in store.get("validation_status") or [] if isinstance(item, dict)]
    return summary(store, state, failures)
