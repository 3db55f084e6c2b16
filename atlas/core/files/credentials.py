"""C2PA Content Credentials with c2pa-python: sign a render, read and validate a file's manifests.

A first pass (txt2img) gets a `c2pa.created` action with the IPTC trainedAlgorithmicMedia source
type. A pass made from another render opens that render as its `parentOf` ingredient and records
an edit, so the manifest store carries the lineage. Signing is the last write: any later change to
the file breaks the signature.

Each manifest also carries the provenance record it was given (RECORD_LABEL: the signature covers
it, so editing it invalidates the manifest) and a CAWG training-and-data-mining assertion
(TRAINING_LABEL). The record is embedded exactly as given: a redacted record stays redacted.
"""

import hashlib
import io
import json
import re
from pathlib import Path

from atlas.core.errors import BadInput
from atlas.core.settings import TRAINING_MINING_CHOICES

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE_TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
PARENT_LABEL = "input-render"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EDIT_ACTIONS = {"img2img": "c2pa.edited", "outpaint": "c2pa.edited", "upscale": "c2pa.resized"}
# An entity's own assertions are labelled with a reverse-domain prefix (C2PA 2.1, "Labels").
RECORD_LABEL = "org.atlas.provenance"
# CAWG Training and Data Mining assertion 1.x: one entry per use, each `use` one of TRAINING_CHOICES
# (`constraint_info` says what a "constrained" use is bound by). It replaces c2pa.training-mining.
TRAINING_LABEL = "cawg.training-mining"
TRAINING_USES = ("cawg.data_mining", "cawg.ai_inference", "cawg.ai_generative_training", "cawg.ai_training")
TRAINING_OF_MODELS = ("cawg.ai_generative_training", "cawg.ai_training")  # what a model licence can restrict
TRAINING_CHOICES = TRAINING_MINING_CHOICES
_MENTIONS_TRAINING = re.compile(r"\btrain", re.IGNORECASE)


def training_mining(choice: str | None = None, restrictions=(), constraint: str | None = None) -> dict:
    """The entries of the training-and-mining assertion: every use as the user's `choice` says
    (default "allowed"), except that model training is "constrained" by any licence restriction that
    speaks of training (`restrictions`, as atlas/data/licences.json words them): the user cannot
    grant what a model's licence withholds. `constraint` describes a "constrained" choice."""
    choice = choice or "allowed"
    if choice not in TRAINING_CHOICES:
        raise BadInput(f"training_mining must be one of {', '.join(TRAINING_CHOICES)}, not {choice!r}")
    binding = [r for r in restrictions if _MENTIONS_TRAINING.search(r)]
    entries = {}
    for use in TRAINING_USES:
        entry = {"use": choice}
        notes = [constraint] if choice == "constrained" and constraint else []
        if binding and use in TRAINING_OF_MODELS and choice != "notAllowed":
            entry["use"] = "constrained"
            notes += [f"model licence: {r}" for r in binding]
        if entry["use"] == "constrained":
            entry["constraint_info"] = "; ".join(notes) or "constrained by the author"
        entries[use] = entry
    return entries


def _describe(step: dict) -> str:
    model = (step.get("model") or step.get("upscaler") or {}).get("name")
    parts = [step.get("kind") or "render"]
    if model:
        parts.append(f"with {model}")
    if step.get("denoise") is not None and step.get("kind") != "txt2img":
        parts.append(f"denoise {step['denoise']}")
    return " ".join(parts)


def manifest_definition(record: dict, title: str, has_parent: bool, action: str | None = None,
                        training: dict | None = None) -> dict:
    """The manifest for the render `record` describes: created, or an edit of its parent
    (`action`, default by the pass kind: c2pa.edited, or c2pa.resized for upscales), with `record`
    itself and the training-and-mining `training` entries (default: training_mining())."""
    last = (record.get("lineage") or [{}])[-1]  # every fact from `record`: a redacted one may lack them
    version = (last.get("software") or {}).get("atlas", "unknown")
    agent = {"name": "atlas", "version": version}
    if has_parent:
        actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}},
                   {"action": action or EDIT_ACTIONS.get(last.get("kind"), "c2pa.edited"), "softwareAgent": agent,
                    "digitalSourceType": COMPOSITE_TRAINED, "description": _describe(last)}]
    else:
        actions = [{"action": "c2pa.created", "softwareAgent": agent, "digitalSourceType": TRAINED,
                    "description": _describe(last)}]
    return {"claim_generator_info": [agent], "title": title,
            "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}},
                           {"label": RECORD_LABEL, "data": record},
                           {"label": TRAINING_LABEL, "data": {"entries": training or training_mining()}}]}


def _context(trust_anchor: bytes | None = None):
    import c2pa

    settings = {"builder": {"thumbnail": {"enabled": False}},  # the image itself is the thumbnail
                "verify": {"verify_trust": trust_anchor is not None}}
    if trust_anchor is not None:
        settings["trust"] = {"trust_anchors": trust_anchor.decode("ascii")}
    return c2pa.Context.from_dict(settings)


def sign(data: bytes, record: dict, identity, parent: bytes | None = None, fmt: str = "png",
         action: str | None = None, parent_fmt: str = "png", training: dict | None = None) -> bytes:
    """`data` (a `fmt` file) signed with `identity` (keys.Identity); `parent` is the `parent_fmt`
    file it was made from, if any, recorded as its parentOf ingredient with `action` (see
    manifest_definition): a parent with a manifest of its own, atlas's or another tool's, is chained
    to. `record` is embedded as given; `training` defaults to the identity's configured choice."""
    return sign_with_manifest(data, record, identity, parent, fmt, action, parent_fmt, training)[0]


def sign_with_manifest(data: bytes, record: dict, identity, parent: bytes | None = None, fmt: str = "png",
                       action: str | None = None, parent_fmt: str = "png",
                       training: dict | None = None) -> tuple[bytes, bytes]:
    """`sign`, also returning the manifest store it embedded (its sha256 is what the catalogue keeps)."""
    import c2pa

    title = f"atlas-render-{(record.get('render') or {}).get('id')}.{fmt}"
    if training is None:
        training = training_mining(getattr(identity, "training_mining", None),
                                   constraint=getattr(identity, "training_constraint", None))
    tsa_url = getattr(identity, "tsa_url", None)
    try:
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.key_pem, tsa_url)
        with _context() as context, c2pa.Signer.from_info(info) as signer, \
                c2pa.Builder.from_json(manifest_definition(record, title, parent is not None, action, training),
                                       context) as builder:
            if parent is not None:
                builder.add_ingredient({"title": "input render", "relationship": "parentOf",
                                        "label": PARENT_LABEL}, MIME[parent_fmt], io.BytesIO(parent))
            out = io.BytesIO()
            manifest = builder.sign(signer, MIME[fmt], io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        via = f" through the time-stamp authority {tsa_url}" if tsa_url else ""
        raise BadInput(f"C2PA signing with the identity from {identity.source}{via} failed: {exc}") from None
    return out.getvalue(), bytes(manifest)


def manifest_hash(manifest: bytes) -> str:
    return hashlib.sha256(manifest).hexdigest()


def _action_summary(manifest: dict) -> list[dict]:
    actions = []
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                actions.append({k: action[k] for k in ("action", "digitalSourceType", "description") if k in action})
    return actions


def _assertion_data(manifest: dict, label: str):
    return next((a.get("data") for a in manifest.get("assertions", []) if a.get("label") == label), None)


def read(source: str | Path | bytes, trust_anchor: bytes | None = None, mime: str | None = None) -> dict | None:
    """The C2PA manifests of a file and their validation, or None when it has none.

    `validation_state` is c2pa's: Trusted (valid and signed under `trust_anchor`), Valid (signature
    sound, signer not trusted), or Invalid; `failures` lists the codes of what failed. Each manifest
    of the chain (active first) comes with its signer, actions, the atlas record it carries and its
    training-and-mining entries (None when it has none).
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
                          "record": _assertion_data(manifest, RECORD_LABEL),
                          "training_mining": (_assertion_data(manifest, TRAINING_LABEL) or {}).get("entries"),
                          "parent": parent.get("active_manifest") if parent else None})
        label = parent.get("active_manifest") if parent else None
    return {"validation_state": state, "active_manifest": store.get("active_manifest"),
            "failures": failures, "manifests": manifests}
