"""C2PA Content Credentials with c2pa-python: sign a render, read and validate a file's manifests.

A first pass (txt2img) gets a `c2pa.created` action with the IPTC trainedAlgorithmicMedia source
type. A pass made from another render opens that render as its `parentOf` ingredient and records
an edit, so the manifest store carries the lineage. Signing is the last write: any later change to
the file breaks the signature.
"""

import io
import json
from pathlib import Path

from atlas.core.errors import BadInput

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE_TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
PARENT_LABEL = "input-render"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EDIT_ACTIONS = {"img2img": "c2pa.edited", "outpaint": "c2pa.edited", "upscale": "c2pa.resized"}


def _describe(step: dict) -> str:
    model = (step.get("model") or step.get("upscaler") or {}).get("name")
    parts = [step["kind"]]
    if model:
        parts.append(f"with {model}")
    if step.get("denoise") is not None and step["kind"] != "txt2img":
        parts.append(f"denoise {step['denoise']}")
    return " ".join(parts)


def manifest_definition(record: dict, title: str, has_parent: bool, action: str | None = None) -> dict:
    """The manifest for the render `record` describes: created, or an edit of its parent
    (`action`, default by the pass kind: c2pa.edited, or c2pa.resized for upscales)."""
    last = record["lineage"][-1]
    version = (last.get("software") or {}).get("atlas", "unknown")
    agent = {"name": "atlas", "version": version}
    if has_parent:
        actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}},
                   {"action": action or EDIT_ACTIONS.get(last["kind"], "c2pa.edited"), "softwareAgent": agent,
                    "digitalSourceType": COMPOSITE_TRAINED, "description": _describe(last)}]
    else:
        actions = [{"action": "c2pa.created", "softwareAgent": agent, "digitalSourceType": TRAINED,
                    "description": _describe(last)}]
    return {"claim_generator_info": [agent], "title": title,
            "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]}


def _context(trust_anchor: bytes | None = None):
    import c2pa

    settings = {"builder": {"thumbnail": {"enabled": False}},  # the image itself is the thumbnail
                "verify": {"verify_trust": trust_anchor is not None}}
    if trust_anchor is not None:
        settings["trust"] = {"trust_anchors": trust_anchor.decode("ascii")}
    return c2pa.Context.from_dict(settings)


def sign(data: bytes, record: dict, identity, parent: bytes | None = None, fmt: str = "png",
         action: str | None = None) -> bytes:
    """`data` (a `fmt` file) signed with `identity` (keys.Identity); `parent` is the PNG it was made
    from, if any, recorded as its parentOf ingredient with `action` (see manifest_definition)."""
    import c2pa

    title = f"atlas-render-{record['render'].get('id')}.{fmt}"
    try:
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.key_pem, None)
        with _context() as context, c2pa.Signer.from_info(info) as signer, \
                c2pa.Builder.from_json(manifest_definition(record, title, parent is not None, action),
                                   context) as builder:
            if parent is not None:
                builder.add_ingredient({"title": "input render", "relationship": "parentOf",
                                        "label": PARENT_LABEL}, MIME["png"], io.BytesIO(parent))
            out = io.BytesIO()
            builder.sign(signer, MIME[fmt], io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise BadInput(f"C2PA signing with the identity from {identity.source} failed: {exc}") from None
    return out.getvalue()


def _action_summary(manifest: dict) -> list[dict]:
    actions = []
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                actions.append({k: action[k] for k in ("action", "digitalSourceType", "description") if k in action})
    return actions


def read(source: str | Path | bytes, trust_anchor: bytes | None = None, mime: str | None = None) -> dict | None:
    """The C2PA manifests of a file and their validation, or None when it has none.

    `validation_state` is c2pa's: Trusted (valid and signed under `trust_anchor`), Valid (signature
    sound, signer not trusted), or Invalid; `failures` lists the codes of what failed.
    """
    import c2pa

    try:
        with _context(trust_anchor) as context:
            if isinstance(source, bytes):
                reader = c2pa.Reader.try_create(mime or "image/png", io.BytesIO(source), None, context)
            else:
                with open(source, "rb") as fh:
                    reader = c2pa.Reader.try_create(mime or "", fh, None, context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
    except c2pa.C2paError as exc:
        return {"validation_state": "Invalid", "failures": [f"unreadable manifest: {exc}"], "manifests": []}
    failures = [f"{item.get('code')}: {item.get('explanation', '')}".strip()
                for item in (results.get("activeManifest") or {}).get("failure", [])]
    failures += [f"{item.get('code')}: {item.get('explanation', '')}".strip()
                 for item in store.get("validation_status", []) or []
                 if f"{item.get('code')}: {item.get('explanation', '')}".strip() not in failures]
    manifests = []
    label = store.get("active_manifest")
    seen = set()
    while label and label not in seen:  # walk the chain: active manifest, its parent, ...
        seen.add(label)
        manifest = store["manifests"][label]
        parent = next((i for i in manifest.get("ingredients", []) if i.get("relationship") == "parentOf"), None)
        signature = manifest.get("signature_info", {})
        manifests.append({"label": label, "title": manifest.get("title"),
                          "claim_generator": [g.get("name") for g in manifest.get("claim_generator_info", [])],
                          "signer": signature.get("common_name"), "issuer": signature.get("issuer"),
                          "actions": _action_summary(manifest),
                          "parent": parent.get("active_manifest") if parent else None})
        label = parent.get("active_manifest") if parent else None
    return {"validation_state": state, "active_manifest": store.get("active_manifest"),
            "failures": failures, "manifests": manifests}
