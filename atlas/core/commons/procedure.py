"""A render's lineage turned into methodology facts, grouped the way a person would tell them.

Consecutive passes of one kind whose settings are equal form one group ("fourteen successive
passes of Outpainting mk2"); what naturally changes from pass to pass (the side grown, the tile
overlap, seeds, the growing size) is listed in order instead of splitting the group. A pass whose
settings differ from its neighbours is a group of its own. Templates turn the groups into prose.
"""

from dataclasses import dataclass, field

_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

# Settings that are expected to change within a run of passes and are listed rather than compared.
VARYING_SETTINGS = {
    "outpaint": {"side", "pixels"},
    "upscale": {"overlap", "tiles", "tile_seeds"},
}
# Facts of a pass record that never decide whether two passes belong together.
IGNORED = {"seed", "steps_run", "width", "height", "status", "started", "ended", "duration_s",
           "input", "output", "run", "software", "device", "tool", "settings", "model", "upscaler",
           "raw_metadata"}
SIDE_WORDS = {"left": "left", "right": "right", "up": "top", "down": "bottom",
              "top": "top", "bottom": "bottom"}
SIDE_ORDER = ("left", "right", "top", "bottom")
SETTING_LABELS = {
    "mask_blur": "mask blur of {}",
    "falloff": "fall-off exponent of {}",
    "colour_variation": "colour variation of {}",
    "scale": "a scale factor of {}",
    "tile": "tiles of {} px",
    "batch": "a batch size of {}",
}
NOT_TOLD = {"script", "upscaler"}  # named in the prose already


def number_words(n: int) -> str:
    """14 -> "fourteen" (digits from one hundred up)."""
    if 0 <= n < 20:
        return _SMALL[n]
    if 20 <= n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_SMALL[ones]}" if ones else "")
    return str(n)


def fmt(value) -> str:
    """Numbers as people write them: 7.0 -> "7", 0.80 -> "0.8"."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def size(entry: dict | None) -> str | None:
    return f"{entry['width']}x{entry['height']}" if entry else None


def _model_key(model: dict | None):
    return (model or {}).get("sha256")


def _group_key(step: dict):
    varying = VARYING_SETTINGS.get(step["kind"], set())
    settings = {k: v for k, v in (step.get("settings") or {}).items() if k not in varying}
    facts = {k: v for k, v in step.items() if k not in IGNORED}
    return (repr(sorted(facts.items())), repr(sorted(settings.items(), key=lambda kv: kv[0])),
            _model_key(step.get("model")), _model_key(step.get("upscaler")))


@dataclass
class Group:
    """One run of consecutive passes told together."""

    kind: str
    passes: list[dict]
    count_words: str = ""
    size_from: str | None = None
    size_to: str | None = None
    sizes: list[str | None] = field(default_factory=list)
    seeds: list = field(default_factory=list)
    steps_run: list = field(default_factory=list)
    sides: list[dict] = field(default_factory=list)
    pixels: list = field(default_factory=list)
    overlaps: list = field(default_factory=list)
    settings: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.passes)

    @property
    def first(self) -> dict:
        return self.passes[0]

    @property
    def script(self) -> str | None:
        return (self.first.get("settings") or {}).get("script")

    @property
    def upscaler(self) -> str | None:
        """The upscaler model's name as registered, else as the settings name it."""
        model = self.first.get("upscaler")
        return model["name"] if model else (self.first.get("settings") or {}).get("upscaler")

    @property
    def overlaps_differ(self) -> bool:
        return len(set(map(repr, self.overlaps))) > 1


def _distinct(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _describe(group: Group) -> Group:
    first, passes = group.first, group.passes
    group.count_words = number_words(group.count)
    group.size_from = size(first.get("input"))
    group.size_to = size(passes[-1].get("output"))
    group.sizes = [size(p.get("output")) for p in passes]
    group.seeds = [p.get("seed") for p in passes if p.get("seed") is not None]
    group.steps_run = _distinct(p["steps_run"] for p in passes if p.get("steps_run") is not None)
    settings = [p.get("settings") or {} for p in passes]
    if group.kind == "outpaint":
        counts: dict[str, int] = {}
        for s in settings:
            word = SIDE_WORDS.get(str(s.get("side")), str(s.get("side")))
            counts[word] = counts.get(word, 0) + 1
        order = [w for w in SIDE_ORDER if w in counts] + [w for w in counts if w not in SIDE_ORDER]
        group.sides = [{"side": w, "count": counts[w], "count_words": number_words(counts[w])} for w in order]
        group.pixels = _distinct(s.get("pixels") for s in settings if s.get("pixels") is not None)
    if group.kind == "upscale":
        group.overlaps = [s.get("overlap") for s in settings if s.get("overlap") is not None]
    varying = VARYING_SETTINGS.get(group.kind, set())
    for key, value in (first.get("settings") or {}).items():
        if key in varying or key in NOT_TOLD or isinstance(value, (list, dict)):
            continue
        label = SETTING_LABELS.get(key, key.replace("_", " ") + " {}")
        group.settings.append(label.format(fmt(value)))
    return group


def groups(lineage: list[dict]) -> list[Group]:
    """The lineage (pass records, oldest first) as groups of consecutive, equally set passes."""
    out: list[Group] = []
    last_key = None
    for step in lineage:
        key = _group_key(step)
        groupable = step["kind"] not in ("txt2img", "import")
        if out and groupable and key == last_key:
            out[-1].passes.append(step)
        else:
            out.append(Group(kind=step["kind"], passes=[step]))
        last_key = key
    return [_describe(g) for g in out]


def _ordered_models(lineage: list[dict], role: str) -> list[dict]:
    seen, out = set(), []
    for step in lineage:
        model = step.get(role)
        if model and model["sha256"] not in seen:
            seen.add(model["sha256"])
            out.append(model)
    return out


def device_words(device: str) -> str:
    """The engine's device description as prose: "cuda: NVIDIA X" -> "a single NVIDIA X"."""
    kind, _, name = device.partition(": ")
    if kind == "cuda" and name:
        return f"a single {name}"
    if kind == "cpu":
        return f"the CPU ({name})" if name else "the CPU"
    return device


def facts(lineage: list[dict]) -> dict:
    """Everything the procedure section states: hardware, software, models and the pass groups."""
    def software(key):
        return _distinct((s.get("software") or {}).get(key) for s in lineage if (s.get("software") or {}).get(key))

    return {
        "devices": _distinct(device_words(s["device"]) for s in lineage if s.get("device")),
        "atlas_versions": software("atlas"),
        "diffusers_versions": software("diffusers"),
        "tools": _distinct(s.get("tool") for s in lineage if s.get("tool") and s.get("tool") != "atlas"),
        "checkpoints": _ordered_models(lineage, "model"),
        "upscalers": _ordered_models(lineage, "upscaler"),
        "groups": groups(lineage),
        "final_size": size(lineage[-1].get("output")) if lineage else None,
    }
