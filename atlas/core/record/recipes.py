"""Recipes: a txt2img pass and then a list of img2img / outpaint / upscale passes, as YAML or JSON.

A recipe is validated against `schemas/recipe.schema.json`, then every pass's settings against the
settings table the CLI uses too (`atlas.core.record.requests`: sampler names, overlap below the tile
size, ...) and the sizes along the chain, every error naming its JSON path, before any work starts.
`expand` turns it into the flat pass list a Run executes (repeats and groups unrolled, per-kind
defaults applied); `sizes` walks the size chain without running anything.
No torch here: `atlas run` refuses a bad recipe before the engine loads.
"""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

from atlas.core.errors import BadInput
from atlas.core.limits import MAX_JSON_DEPTH, MAX_RECIPE_BYTES, MAX_YAML_NODES, check_json_depth
from atlas.core.record import requests
from atlas.core.settings import MAX_SIDE, SettingError, check_prompt

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "recipes"
KINDS = ("img2img", "outpaint", "upscale")
MAX_PASSES = 10_000


@dataclass
class Recipe:
    name: str | None
    document: dict


@dataclass
class PassSpec:
    kind: str  # txt2img | img2img | outpaint | upscale
    settings: dict = field(default_factory=dict)
    path: str = "$"  # JSON path of the entry it came from, for error messages


def shipped() -> list[str]:
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def parse(text: str, what: str) -> dict:
    """A YAML or JSON document (JSON is tried first: its errors are clearer for JSON files).

    Bounded: at most MAX_RECIPE_BYTES, nested at most MAX_JSON_DEPTH deep, and at most MAX_YAML_NODES
    values once YAML aliases are expanded (aliases are allowed; an alias bomb is refused)."""
    import yaml

    if len(text) > MAX_RECIPE_BYTES:
        raise BadInput(f"{what}: the recipe is larger than MAX_RECIPE_BYTES ({MAX_RECIPE_BYTES} bytes)")
    check_json_depth(text, what)  # YAML flow collections use the same brackets
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        try:
            document = _load_yaml(text, what)
        except yaml.YAMLError as exc:
            raise BadInput(f"{what}: not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadInput(f"{what}: a recipe must be a mapping at the top level ($)")
    return document


def _load_yaml(text: str, what: str):
    """yaml.safe_load with the nesting depth and the expanded size bounded before anything is built."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):
            self.depth += 1
            if self.depth > MAX_JSON_DEPTH:
                raise BadInput(f"{what}: the recipe nests deeper than MAX_JSON_DEPTH ({MAX_JSON_DEPTH})")
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    loader = BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if _expanded_size(root, {}) > MAX_YAML_NODES:
            raise BadInput(f"{what}: the recipe's YAML aliases expand to more than MAX_YAML_NODES "
                           f"({MAX_YAML_NODES}) values")
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _expanded_size(node, sizes: dict) -> int:
    """The number of values under `node` with every alias expanded; each shared node counted once
    per use but computed once (depth is already bounded, so the recursion is too)."""
    import yaml

    if id(node) in sizes:
        return sizes[id(node)]
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = total = min(total, MAX_YAML_NODES + 1)
    return total


def load(source: str | Path) -> Recipe:
    """A recipe from a file, or a shipped recipe by name (`demo`, `futuristic-city`); validated."""
    text_source = str(source)
    path = Path(text_source).expanduser()
    if not path.is_file():
        shipped_path = SHIPPED_DIR / f"{text_source}.yaml"
        if "/" in text_source or not shipped_path.is_file():
            raise BadInput(f"{text_source}: no such recipe file, and not a shipped recipe "
                           f"({', '.join(shipped())})")
        path = shipped_path
    try:
        if path.stat().st_size > MAX_RECIPE_BYTES:  # a device or FIFO reports 0 and is cut off below
            raise BadInput(f"{path}: the recipe is larger than MAX_RECIPE_BYTES ({MAX_RECIPE_BYTES} bytes)")
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_RECIPE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the recipe ({exc})") from None
    document = parse(text, str(path))
    validate(document, str(path))
    return Recipe(name=document.get("name") or path.stem, document=document)


def problems(document) -> list[str]:
    from atlas.core.schemas import problems as schema_problems

    found = schema_problems("recipe", document)
    if found:
        return found  # the checks below assume a document of the right shape
    # Every value against the settings table (`atlas.core.settings`), the one the CLI checks with.
    found = []
    for key in ("prompt", "negative_prompt"):  # the recipe's own prompts, which every pass inherits
        try:
            check_prompt(key, document.get(key))
        except SettingError as exc:
            found.append(f"$.{key}: {exc}")
    found += _setting_problems("txt2img", document["txt2img"], "$.txt2img")
    defaults = document.get("defaults") or {}
    for kind, values in defaults.items():
        found += _setting_problems(kind, values, f"$.defaults.{kind}")
    for spec in _walk(document.get("passes", []), "$.passes"):
        found += _setting_problems(spec.kind, {**defaults.get(spec.kind, {}), **spec.settings}, spec.path,
                                   own=spec.settings)
    found = list(dict.fromkeys(found))  # a bad default is named once, not once per pass
    if not found:
        found += _size_problems(document)
    return found


def _setting_problems(kind: str, values: dict, path: str, own: dict | None = None) -> list[str]:
    """The first refused setting of one pass as 'PATH.KEY: reason' (a default's path if it came from one)."""
    try:
        requests.for_kind(kind, values)
    except SettingError as exc:
        if own is not None and exc.setting not in own and exc.setting in values:
            path = f"$.defaults.{kind}"
        return [f"{path}.{exc.setting}: {exc}"]
    return []


def validate(document, what: str = "recipe") -> None:
    found = problems(document)
    if found:
        raise BadInput(f"invalid recipe {what}:\n  " + "\n  ".join(found))


def _walk(entries: list, path: str, repeat_path: str | None = None):
    """Each pass entry once (not repeated), with its JSON path and its own settings."""
    for i, entry in enumerate(entries):
        here = f"{path}[{i}]"
        if "passes" in entry:
            yield from _walk(entry["passes"], f"{here}.passes")
            continue
        kind = next(k for k in KINDS if k in entry)
        yield PassSpec(kind, dict(entry[kind]), f"{here}.{kind}")


def _unroll(entries: list, path: str, defaults: dict, out: list) -> None:
    for i, entry in enumerate(entries):
        here = f"{path}[{i}]"
        for _ in range(entry.get("repeat", 1)):
            if "passes" in entry:
                _unroll(entry["passes"], f"{here}.passes", defaults, out)
            else:
                kind = next(k for k in KINDS if k in entry)
                out.append(PassSpec(kind, {**defaults.get(kind, {}), **entry[kind]}, f"{here}.{kind}"))
            if len(out) > MAX_PASSES:
                raise BadInput(f"{here}.repeat: the recipe expands to more than {MAX_PASSES} passes")


def expand(document: dict) -> list[PassSpec]:
    """The flat pass list: the txt2img pass first, then every pass with repeats unrolled."""
    first = PassSpec("txt2img", dict(document["txt2img"]), "$.txt2img")
    out: list[PassSpec] = [first]
    _unroll(document.get("passes", []), "$.passes", document.get("defaults") or {}, out)
    return out


def upscale_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """SD upscale's target as A1111's upscalers compute it: each side times the scale, floored to a
    multiple of 8 (not rounded: 100 px x 1.5 gives 144, not 152)."""
    size = int((width * scale) // 8 * 8), int((height * scale) // 8 * 8)
    if min(size) < 8:
        raise BadInput(f"{width}x{height} x {scale:g} is under 8 px on a side: too small to upscale")
    return size


def output_size(spec: PassSpec, width: int, height: int) -> tuple[int, int]:
    if spec.kind == "txt2img":
        return spec.settings["width"], spec.settings["height"]
    if spec.kind == "outpaint":
        pixels = spec.settings.get("pixels", 128)
        side = spec.settings.get("side", "left")

        def grown(length: int) -> int:  # Outpainting mk2 grows the side to the next multiple of 64
            return -(-(length + pixels) // 64) * 64

        return (grown(width), height) if side in ("left", "right") else (width, grown(height))
    if spec.kind == "upscale":
        if str(spec.settings.get("upscaler", "")).lower() == "none":  # A1111 tiles the input as it is
            return width, height
        return upscale_size(width, height, spec.settings.get("scale", 2.0))
    return width, height


def sizes(document: dict) -> list[tuple[tuple[int, int] | None, tuple[int, int]]]:
    """(input size, output size) of every expanded pass, computed from the recipe alone."""
    chain: list[tuple[tuple[int, int] | None, tuple[int, int]]] = []
    current = None
    for spec in expand(document):
        out = output_size(spec, *(current or (0, 0)))
        chain.append((current, out))
        current = out
    return chain


def _size_problems(document: dict) -> list[str]:
    try:
        specs = expand(document)
    except BadInput as exc:
        return [str(exc)]
    current = None
    for spec in specs:
        current = output_size(spec, *(current or (0, 0)))
        if max(current) > MAX_SIDE:
            return [f"{spec.path}: this pass would make a {current[0]}x{current[1]} image; "
                    f"sides are limited to {MAX_SIDE}"]
    return []


def with_overrides(document: dict, model: str | None = None, seed: int | None = None,
                   upscaler: str | None = None) -> dict:
    """A copy of `document` with the command line's --model, --seed and --upscaler applied."""
    resolved = copy.deepcopy(document)
    if model is not None:
        resolved["model"] = model
    if seed is not None:
        resolved["seed"] = seed
    if upscaler is not None:
        resolved.setdefault("defaults", {}).setdefault("upscale", {})["upscaler"] = upscaler

        def strip(entries):
            for entry in entries:
                if "upscale" in entry:
                    entry["upscale"].pop("upscaler", None)
                strip(entry.get("passes", []))

        strip(resolved.get("passes", []))
    return resolved
