"""ComfyUI's API graph (the `prompt` text): which samplers made the saved image, with what.

The graph maps node ids to {"class_type", "inputs"}; an input is a value or a link
[source node id, output index]. The file's image is the output of a save node (a preview only
when nothing saves); a workflow may save several images (a preview before a hires pass, for
instance), so the one behind the most samplers is taken. Its passes are the samplers upstream of
that node, oldest first; each pass's values are found by walking back from the sampler through
whatever nodes lie between: guiders, noise, sampler-select and scheduler nodes, text encoders
whose text comes through primitive, string, switch or concatenate nodes, and any model loader
behind LoRA and patch nodes.

Every walk is bounded (MAX_NODES visited, MAX_DEPTH links followed) and survives cycles,
missing nodes and values of the wrong type: a hostile graph gives fewer values, never an error.
"""

import json
from collections import deque
from dataclasses import dataclass, field

MAX_NODES = 2000  # nodes one walk may visit
MAX_DEPTH = 32  # links one value may be followed through
MAX_PASSES = 64
MAX_TEXT = 1 << 20  # characters of one resolved prompt

SAVE_NODES = frozenset({"SaveImage", "Image Save", "SaveImageExtended", "Save Image w/Metadata",
                        "SaveImageWebsocket", "SaveAnimatedWEBP", "SaveAnimatedPNG", "Image Saver",
                        "SaveImageWithMetaData", "easy imageSave", "JWImageSaveToPath"})
PREVIEW_NODES = frozenset({"PreviewImage", "easy imagePreview", "Image Preview"})
# Inputs that carry a prompt's text in text-encoder and prompt nodes (SDXL: text_g/text_l; Flux: clip_l/t5xxl).
TEXT_INPUTS = ("text", "text_g", "text_l", "clip_l", "t5xxl", "prompt", "positive")
# Inputs that hold a string literal in primitive and string nodes, in order of preference.
STRING_INPUTS = ("value", "string", "text", "Text", "prompt", "STRING", "positive")
LOADER_INPUTS = ("ckpt_name", "unet_name", "model_name", "model_path", "base_ckpt_name")
# Inputs not followed when looking for a pass's prompts: they lead to weights or images, not text.
NOT_TEXT_PATHS = frozenset({"clip", "model", "vae", "clip_vision", "image", "images", "pixels", "samples",
                            "latent_image", "mask", "control_net", "style_model", "upscale_model"})


@dataclass
class SamplingPass:
    """One sampler's values; None or "" where the graph does not say."""

    node: str
    class_type: str
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler: str | None = None
    scheduler: str | None = None
    denoise: float | None = None
    width: int | None = None
    height: int | None = None
    model: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    settings: dict = field(default_factory=dict)


def load_graph(text) -> dict | None:
    """The API graph in `text` (ComfyUI's `prompt`, also after EXIF's "prompt:" prefix), or None."""
    if not isinstance(text, str):
        return None
    body = text.strip().rstrip("\0")
    if body.lower().startswith("prompt:"):
        body = body[len("prompt:"):]
    try:
        graph = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(graph, dict) or not graph:
        return None
    nodes = [v for v in graph.values() if isinstance(v, dict)]
    if not nodes or not any(isinstance(v.get("class_type"), str) for v in nodes):
        return None  # a UI workflow or some other JSON: no API graph
    return graph


def _node(graph: dict, node_id) -> dict | None:
    node = graph.get(str(node_id))
    return node if isinstance(node, dict) else None


def _kind(node: dict | None) -> str:
    kind = (node or {}).get("class_type")
    return kind if isinstance(kind, str) else ""


def _inputs(node: dict | None) -> dict:
    inputs = (node or {}).get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def _link(value) -> str | None:
    """The source node id of a link input, else None."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)) \
            and not isinstance(value[0], bool) and isinstance(value[1], int):
        return str(value[0])
    return None


def _links(node: dict | None, skip: frozenset = frozenset()):
    for name, value in _inputs(node).items():
        source = _link(value)
        if source is not None and name not in skip:
            yield source


def is_sampler(node: dict | None) -> bool:
    kind, inputs = _kind(node), _inputs(node)
    return "Sampler" in kind and kind != "KSamplerSelect" and any(k in inputs for k in ("steps", "sigmas", "guider"))


def _walk(graph: dict, starts, skip: frozenset = frozenset(), through_samplers: bool = True):
    """Node ids upstream of `starts` (themselves included), breadth-first, at most MAX_NODES."""
    seen: set[str] = set()
    queue = deque(str(s) for s in starts)
    while queue and len(seen) < MAX_NODES:
        node_id = queue.popleft()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = _node(graph, node_id)
        if node is None:
            continue
        yield node_id, node
        if not through_samplers and is_sampler(node) and node_id not in starts:
            continue
        queue.extend(s for s in _links(node, skip) if s not in seen)


def upstream_samplers(graph: dict, start: str) -> list[str]:
    """Sampler node ids reachable upstream of `start`, nearest first (breadth-first)."""
    return [k for k, node in _walk(graph, [str(start)]) if k != str(start) and is_sampler(node)]


def _node_order(node_id: str):
    return (0, int(node_id), "") if str(node_id).isdigit() and len(str(node_id)) < 19 else (1, 0, str(node_id))


def _is_save(node: dict) -> bool:
    kind = _kind(node)
    return kind in SAVE_NODES or ("Save" in kind and "Image" in kind and "images" in _inputs(node))


def _is_preview(node: dict) -> bool:
    kind = _kind(node)
    return kind in PREVIEW_NODES or ("Preview" in kind and "images" in _inputs(node))


def output_node(graph: dict) -> str | None:
    """The node that wrote the file: of the save nodes (previews when none saves), the one behind the
    most samplers (the last such in id order on a tie); None when no output is behind a sampler."""
    if not isinstance(graph, dict):
        return None
    for test in (_is_save, _is_preview):
        outputs = [k for k, v in graph.items() if isinstance(v, dict) and test(v)]
        best, best_depth = None, 0
        for node_id in sorted(outputs, key=_node_order)[:MAX_PASSES]:
            depth = len(upstream_samplers(graph, node_id))
            if depth and depth >= best_depth:
                best, best_depth = node_id, depth
        if best is not None:
            return best
    return None


def final_sampler(graph: dict) -> str | None:
    """The id of the sampler that made the saved image, or None when the graph has none."""
    if not isinstance(graph, dict):
        return None
    out = output_node(graph)
    if out is not None:
        return upstream_samplers(graph, out)[0]
    samplers = [k for k, v in graph.items() if isinstance(v, dict) and is_sampler(v)]
    return max(samplers, key=_node_order) if samplers else None


def sampler_chain(graph: dict) -> list[str]:
    """The samplers that made the saved image, oldest first (each after every sampler it depends on)."""
    if not isinstance(graph, dict):
        return []
    out = output_node(graph)
    if out is None:
        last = final_sampler(graph)
        return [last] if last is not None else []
    chain = upstream_samplers(graph, out)[:MAX_PASSES]
    members = set(chain)
    depth = {s: len(set(upstream_samplers(graph, s)) & members) for s in chain}
    return sorted(chain, key=lambda s: (depth[s], _node_order(s)))


LATENT_FIRST = ("samples_to", "samples", "latent_image", "latent", "pixels", "image", "images")
NOT_LATENT_PATHS = frozenset({"positive", "negative", "conditioning", "model", "clip", "vae", "mask", "noise",
                              "guider", "sampler", "sigmas"})


def latent_size(graph: dict, sampler_id: str) -> tuple[int | None, int | None]:
    """The size a sampler worked at: the nearest node upstream of its latent input that sets one
    (EmptyLatentImage, LatentUpscale, ...), the destination of a composite first; a sampler on the
    way keeps the size of its own input. (None, None) for latents encoded from a loaded image."""
    node = _node(graph, sampler_id) if isinstance(graph, dict) else None
    source = _link(_inputs(node).get("latent_image"))
    seen: set[str] = set()
    stack = [source] if source is not None else []
    while stack and len(seen) < MAX_NODES:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        current = _node(graph, node_id)
        inputs = _inputs(current)
        if is_sampler(current):
            follow = [inputs.get("latent_image")]
        else:
            width, height = _number(graph, inputs.get("width"), int), _number(graph, inputs.get("height"), int)
            if width is not None and height is not None:
                return width, height
            names = sorted((k for k in inputs if k not in NOT_LATENT_PATHS),
                           key=lambda k: LATENT_FIRST.index(k) if k in LATENT_FIRST else len(LATENT_FIRST))
            follow = [inputs[k] for k in names]
        stack.extend(reversed([s for s in map(_link, follow) if s is not None and s not in seen]))
    return None, None


def _number(graph: dict, value, kind, names=(), depth: int = 0):
    """An int or float input, following links into primitive nodes (their own input of the same
    name, then `value`, then a single numeric input)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not (value == value and abs(value) < 1 << 64):  # NaN, infinities and numbers past 64 bits
            return None
        return kind(value)
    if isinstance(value, str):
        try:
            return _number(graph, float(value) if kind is float else int(value.strip()), kind)
        except ValueError:
            return None
    source = _link(value)
    if source is None or depth >= MAX_DEPTH:
        return None
    inputs = _inputs(_node(graph, source))
    for name in (*names, "value", "int", "float", "number", "seed", "Number"):
        if name in inputs:
            return _number(graph, inputs[name], kind, names, depth + 1)
    scalars = [v for v in inputs.values() if not isinstance(v, (dict, bool)) and (v is None or not isinstance(v, str))]
    return _number(graph, scalars[0], kind, names, depth + 1) if len(scalars) == 1 else None


def resolve_text(graph: dict, value, depth: int = 0, budget: list | None = None) -> str | None:
    """A string input's literal: the value itself, or what a chain of primitive, string, switch and
    concatenate nodes makes of it. None when it cannot be told. `budget` counts the nodes one
    resolution may visit (concatenations branch, and may point back at themselves)."""
    if isinstance(value, str):
        return value
    budget = [MAX_NODES] if budget is None else budget
    source = _link(value)
    if source is None or depth >= MAX_DEPTH or budget[0] <= 0:
        return None
    budget[0] -= 1
    node = _node(graph, source)
    kind, inputs = _kind(node).lower(), _inputs(node)
    if "concat" in kind or "join" in kind or "combine" in kind:
        return _concatenate(graph, inputs, depth, budget)
    if any(k in inputs for k in ("select", "Input", "boolean", "switch", "input")):
        chosen = _switch(inputs)
        if chosen is not None:
            return resolve_text(graph, chosen, depth + 1, budget)
    for name in STRING_INPUTS:
        if name in inputs:
            found = resolve_text(graph, inputs[name], depth + 1, budget)
            if found is not None:
                return found
    strings = [v for v in inputs.values() if isinstance(v, str) or _link(v) is not None]
    return resolve_text(graph, strings[0], depth + 1, budget) if len(strings) == 1 else None


def _concatenate(graph: dict, inputs: dict, depth: int, budget: list) -> str | None:
    separator = next((inputs[k] for k in ("delimiter", "separator", "Delimiter") if isinstance(inputs.get(k), str)), "")
    parts, length = [], 0
    for name in sorted(inputs):
        if name.lower().startswith(("text", "string")):
            text = resolve_text(graph, inputs[name], depth + 1, budget)
            if text:
                parts.append(text)
                length += len(text) + len(separator)
                if length > MAX_TEXT:
                    return None  # a concatenation that doubles itself: no prompt is that long
    return separator.join(parts) if parts else None


def _switch(inputs: dict):
    """The input a switch node passes on: numbered inputs chosen by an int, a pair by a boolean."""
    selector = next((inputs[k] for k in ("select", "Input", "input", "switch", "boolean") if k in inputs), None)
    if isinstance(selector, bool):
        for names in (("on_true", "on_false"), ("text_a", "text_b"), ("input_a", "input_b"), ("true", "false")):
            if names[0] in inputs or names[1] in inputs:
                return inputs.get(names[0] if selector else names[1])
        return None
    if isinstance(selector, int):
        for name, value in inputs.items():
            digits = "".join(c for c in name if c.isdigit())
            if digits and int(digits[-3:]) == selector and name not in ("select", "Input", "input"):
                return value
    return None


def _texts(graph: dict, conditioning) -> str:
    """The prompt behind a conditioning input: the text of every encoder on its way, in walking order."""
    source = _link(conditioning)
    if source is None:
        return ""
    found: list[str] = []
    for _, node in _walk(graph, [source], skip=NOT_TEXT_PATHS, through_samplers=False):
        if is_sampler(node):
            continue
        inputs = _inputs(node)
        for name in TEXT_INPUTS:
            if name in inputs:
                text = resolve_text(graph, inputs[name])
                if text and text not in found:
                    found.append(text)
    return "\n".join(found)


def _model(graph: dict, value) -> tuple[str | None, list[dict]]:
    """The checkpoint or UNet behind a model input, and the LoRAs applied on the way."""
    source = _link(value)
    if source is None:
        return None, []
    loras = []
    for _, node in _walk(graph, [source], through_samplers=False):
        inputs = _inputs(node)
        if isinstance(inputs.get("lora_name"), (str, list)):
            lora = {"name": resolve_text(graph, inputs["lora_name"])}
            for key in ("strength_model", "strength_clip"):
                strength = _number(graph, inputs.get(key), float)
                if strength is not None:
                    lora[key] = strength
            loras.append(lora)
        for name in LOADER_INPUTS:
            if name in inputs:
                model = resolve_text(graph, inputs[name])
                if model:
                    return model, loras
    return None, loras


def _through(graph: dict, value, wanted) -> dict | None:
    """The nearest node from a link that has one of the `wanted` inputs (past split/select nodes)."""
    for _, node in _walk(graph, [s for s in [_link(value)] if s is not None], through_samplers=False):
        if any(k in _inputs(node) for k in wanted):
            return node
    return None


def read_pass(graph: dict, sampler_id: str) -> SamplingPass:
    """The values of one sampler node, its linked nodes followed."""
    node = _node(graph, sampler_id)
    inputs = _inputs(node)
    found = SamplingPass(node=str(sampler_id), class_type=_kind(node))
    guider = _inputs(_through(graph, inputs.get("guider"), ("cfg", "conditioning", "positive", "model"))) \
        if "guider" in inputs else inputs
    noise = _inputs(_through(graph, inputs.get("noise"), ("noise_seed", "seed"))) if "noise" in inputs else inputs
    select = _inputs(_through(graph, inputs.get("sampler"), ("sampler_name",))) if _link(inputs.get("sampler")) \
        else inputs
    sigmas = _inputs(_through(graph, inputs.get("sigmas"), ("steps", "scheduler"))) if "sigmas" in inputs else inputs

    seed = _number(graph, noise.get("seed", noise.get("noise_seed")), int, ("seed", "noise_seed"))
    if str(inputs.get("add_noise", "enable")).lower() in ("disable", "false"):
        found.settings["add_noise"] = False  # the seed is not used: no noise is added
        seed = None
    found.seed = seed
    found.steps = _number(graph, sigmas.get("steps"), int, ("steps",))
    found.cfg = _number(graph, guider.get("cfg"), float, ("cfg",))
    sampler = resolve_text(graph, select.get("sampler_name"))
    found.sampler = sampler or None
    scheduler = resolve_text(graph, sigmas.get("scheduler"))
    found.scheduler = scheduler or (_kind(_through(graph, inputs.get("sigmas"), ("steps",))) or None
                                    if "sigmas" in inputs else None)
    found.denoise = _number(graph, sigmas.get("denoise"), float, ("denoise",))
    for key in ("start_at_step", "end_at_step"):
        step = _number(graph, inputs.get(key), int, (key,))
        if step is not None:
            found.settings[key] = step
    positive = guider.get("positive", guider.get("conditioning", guider.get("cond1")))
    found.prompt = _texts(graph, positive)
    found.negative_prompt = _texts(graph, guider.get("negative"))
    found.model, loras = _model(graph, guider.get("model", inputs.get("model")))
    if loras:
        found.settings["loras"] = loras
    found.width, found.height = latent_size(graph, sampler_id)
    return found


def read_graph(text) -> list[SamplingPass] | None:
    """The passes that made the saved image of the graph in `text`, oldest first; None when `text`
    holds no API graph with a sampler."""
    graph = load_graph(text)
    if graph is None:
        return None
    chain = sampler_chain(graph)
    return [read_pass(graph, s) for s in chain] or None
