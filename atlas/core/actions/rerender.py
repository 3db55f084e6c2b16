"""What re-rendering a render or a file means: the pass to run again, exactly as recorded.

A rerender is a check, not a new render: nothing is written to the catalogue. What runs again:

- a render id, or a file holding an atlas record: the record's last pass, with its recorded seed and
  settings. A txt2img pass is the whole image; an img2img / outpaint / upscale pass starts from
  the stored file of its recorded input render (found by id, or for a file by the input's sha256),
  so each pass is checked on its own and a difference points at the pass that made it;
- a file with another tool's parameters (A1111 infotext, a ComfyUI graph, read by
  `atlas.core.importers` without importing the file): its txt2img pass. A pass that needs an input
  image (a Denoising strength, a multi-pass graph) is refused: the file does not hold its input.

The model is found among the registered checkpoints by the recorded sha256, else by A1111's short
hash, else by name; `--model` names one instead. `compare` says how the new pixels differ.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from atlas.core import seeding
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model, Render
from atlas.core.errors import BadInput
from atlas.core.record import models, requests, samplers
from atlas.core.record.build import build, get_render, lineage

KINDS = ("txt2img", "img2img", "outpaint", "upscale")


@dataclass
class Plan:
    """One pass to run again and the file its pixels are compared with."""

    kind: str
    request: requests.Txt2ImgRequest | requests.PassRequest  # checked; seed, prompts and sampler concrete
    model: str  # a registered checkpoint's name
    expected: Path  # the file whose pixels the rerender must reproduce
    input: Path | None = None  # the input render's stored file (every kind but txt2img)
    upscaler: str | None = None  # a registered upscaler's name; None: Lanczos
    source: str = ""  # what was read: "render 12", "file x.png (AUTOMATIC1111 parameters)"

    def describe(self) -> dict:
        return {"source": self.source, "kind": self.kind, "model": self.model, "seed": self.request.seed,
                "sampler": self.request.sampler, "steps": self.request.steps, "upscaler": self.upscaler,
                "input": str(self.input) if self.input else None, "expected": str(self.expected)}


def plan(catalogue: Catalogue, target: str, model: str | None = None) -> Plan:
    """The plan for TARGET: an existing file's path, else a render id."""
    path = Path(target).expanduser()
    if path.is_file():
        return plan_file(catalogue, path, model)
    if not target.strip().isdigit():
        raise BadInput(f"{target}: neither a file nor a render id")
    return plan_render(catalogue, int(target), model)


def plan_render(catalogue: Catalogue, render_id: int, model: str | None = None) -> Plan:
    with catalogue.session() as session:
        render = get_render(session, render_id)
        chain = lineage(session, render)
        record = build(session, render)
        expected = catalogue.file_of(render)
        input_render = session.get(Render, chain[-1].input_render_id) if chain and chain[-1].input_render_id else None
        input_path = catalogue.file_of(input_render) if input_render is not None else None
    if not record["lineage"]:
        raise BadInput(f"render {render_id} has no recorded pass to run again")
    if expected is None or not expected.is_file():
        raise BadInput(f"render {render_id} has no file to compare with")
    return _from_pass(catalogue, record["lineage"][-1], expected, input_path, model, f"render {render_id}")


def plan_file(catalogue: Catalogue, path: Path, model: str | None = None) -> Plan:
    from atlas.core.files.embed import PROVENANCE_KEY
    from atlas.core.importers.reader import read_file

    facts = read_file(str(path))
    if facts.error:
        raise BadInput(f"{path}: {facts.error}")
    record = None
    if PROVENANCE_KEY in facts.raw:
        try:
            record = json.loads(facts.raw[PROVENANCE_KEY])
            step = record["lineage"][-1]
        except (ValueError, KeyError, IndexError, TypeError):
            record = None  # a damaged record: the parameters beside it may still say enough
    if record is not None:
        input_path = None
        if step.get("kind") != "txt2img":
            input_path = _stored_input(catalogue, step, path)
        return _from_pass(catalogue, step, path, input_path, model, f"file {path} (atlas record)")
    gen = facts.generation
    if gen is None or gen.steps is None:
        raise BadInput(f"{path}: no generation parameters to run again ({facts.problem or 'none found'})")
    if gen.earlier or (gen.denoise is not None and gen.denoise < 1):
        raise BadInput(f"{path}: its parameters describe a pass that starts from another image "
                       f"(Denoising strength {gen.denoise}); the file does not hold that image")
    settings = gen.settings or {}
    step = {"kind": "txt2img", "prompt": gen.prompt, "negative_prompt": gen.negative_prompt, "seed": gen.seed,
            "sampler": gen.sampler, "steps": gen.steps, "cfg": gen.cfg, "width": gen.width, "height": gen.height,
            "settings": _recorded(settings, *NOISE_KEYS),
            "model": {"name": settings.get("model"), "short_hash": settings.get("model_hash")}}
    return _from_pass(catalogue, step, path, None, model, f"file {path} ({gen.tool or 'unknown tool'} parameters)")


def _stored_input(catalogue: Catalogue, step: dict, path: Path) -> Path:
    digest = (step.get("input") or {}).get("sha256")
    with catalogue.session() as session:
        found = session.exec(select(Render).where(Render.sha256 == digest)).first() if digest else None
        stored = catalogue.file_of(found) if found is not None else None
    if stored is None or not stored.is_file():
        raise BadInput(f"{path}: its last pass ({step.get('kind')}) starts from render file sha256 {digest}, "
                       "which is not in this catalogue")
    return stored


def _from_pass(catalogue: Catalogue, step: dict, expected: Path, input_path: Path | None, model: str | None,
               source: str) -> Plan:
    kind = step.get("kind")
    if kind not in KINDS:
        raise BadInput(f"{source}: a {kind!r} pass cannot be run again (only {', '.join(KINDS)})")
    if kind != "txt2img" and input_path is None:
        raise BadInput(f"{source}: its {kind} pass has no stored input render")
    for name in ("seed", "steps", "sampler", "cfg") + (("width", "height") if kind == "txt2img" else ()):
        if step.get(name) is None:
            raise BadInput(f"{source}: the record has no {name}, so the pass cannot be run again")
    if model:
        with catalogue.session() as session:
            checkpoint = models.get(session, model, kind="checkpoint").name
    else:
        checkpoint = _recorded_model(catalogue, step.get("model") or {}, "checkpoint", source)
    settings = step.get("settings") or {}
    # The schedule it ran with (none recorded: what the sampler's name meant then) and how its noise was drawn.
    sampler, schedule = samplers.recorded(samplers.canonical(step["sampler"]), settings.get("schedule_type"))
    noise = seeding.SeedSettings.from_settings(settings)
    common = {"prompt": step.get("prompt") or "", "negative_prompt": step.get("negative_prompt") or "",
              "seed": step["seed"], "sampler": sampler, "schedule": schedule, "steps": step["steps"],
              "cfg": float(step["cfg"]), "model": checkpoint, "rng": noise.rng, "ensd": noise.ensd,
              "variation_seed": noise.variation_seed if noise.varies else None,
              "variation_strength": noise.variation_strength, "seed_resize_from": noise.seed_resize_from}
    upscaler = None
    if kind == "txt2img":
        request = requests.for_kind("txt2img", {**common, "width": step["width"], "height": step["height"]})
    elif kind == "img2img":
        request = requests.for_kind("img2img", {**common, "denoise": step["denoise"]})
    elif kind == "outpaint":
        request = requests.for_kind("outpaint", {**common, "denoise": step["denoise"],
                                                 **_recorded(settings, "side", "pixels", "mask_blur", "falloff",
                                                             "colour_variation")})
    else:
        if step.get("upscaler"):
            upscaler = _recorded_model(catalogue, step["upscaler"], "upscaler", source)
        request = requests.for_kind("upscale", {**common, "denoise": step["denoise"], "upscaler": upscaler,
                                                **_recorded(settings, "scale", "tile", "overlap", "batch")})
    if request.seed == -1:
        raise BadInput(f"{source}: the recorded seed is -1 (random), so the pass cannot be made again")
    return Plan(kind, request, checkpoint, expected, input_path, upscaler, source)


NOISE_KEYS = ("schedule_type", *seeding.SETTINGS_KEYS)


def _recorded(settings: dict, *names: str) -> dict:
    return {name: settings[name] for name in names if name in settings}


def _recorded_model(catalogue: Catalogue, ref: dict, kind: str, source: str) -> str:
    """The registered model the record names: by sha256, else A1111's short hash, else its name."""
    sha256, short, name = ref.get("sha256"), ref.get("short_hash"), ref.get("name")
    with catalogue.session() as session:
        rows = session.exec(select(Model).where(Model.kind == kind)).all()
    for matches in (lambda m: sha256 and m.sha256 == sha256,
                    lambda m: short and m.short_hash.lower() == str(short).lower(),
                    lambda m: not (sha256 or short) and name and m.name == name):
        found = next((m for m in rows if matches(m)), None)
        if found is not None:
            return found.name
    what = f"hash {sha256 or short}" if sha256 or short else f"name {name!r}" if name else "no hash or name"
    raise BadInput(f"{source}: no registered {kind} matches the recorded {kind} ({what}"
                   f"{f', {name!r}' if name and (sha256 or short) else ''}); register it with "
                   f"`atlas model add` or name one with --model")


@dataclass
class Comparison:
    identical: bool
    width: int
    height: int
    expected_size: tuple[int, int]
    max_abs: int | None = None  # of the 8-bit channel values
    mean_abs: float | None = None
    psnr: float | None = None  # dB; None when identical (infinite) or the sizes differ

    def as_dict(self) -> dict:
        return {"identical": self.identical, "size": [self.width, self.height],
                "expected_size": list(self.expected_size), "max_abs_difference": self.max_abs,
                "mean_abs_difference": self.mean_abs, "psnr_db": self.psnr}


def compare(expected: Path, image) -> Comparison:
    """How `image` (PIL) differs from the pixels of the file `expected`, as 8-bit RGB."""
    import numpy as np
    from PIL import Image

    with Image.open(expected) as stored:
        old = np.asarray(stored.convert("RGB"), dtype=np.int16)
    new = np.asarray(image.convert("RGB"), dtype=np.int16)
    size = (new.shape[1], new.shape[0])
    expected_size = (old.shape[1], old.shape[0])
    if old.shape != new.shape:
        return Comparison(False, *size, expected_size)
    diff = np.abs(old - new)
    if not diff.any():
        return Comparison(True, *size, expected_size, 0, 0.0)
    mse = float(np.mean(diff.astype(np.float64) ** 2))
    psnr = 10 * math.log10(255.0**2 / mse)
    return Comparison(False, *size, expected_size, int(diff.max()), float(diff.mean()), round(psnr, 3))
