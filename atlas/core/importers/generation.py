"""The pass fields a reader finds in a file's metadata, and the rules every reader fills them by.

Each tool's reader (`a1111`, `comfyui` through `tools`, `novelai`, `invokeai`, `fooocus`,
`json_tools`) builds a `Generation`; the rules here keep their values alike: one sampler
vocabulary (A1111's names), seeds beyond 64 bits kept as text, JSON-safe settings.
"""

import json
from dataclasses import dataclass, field

from atlas.core import sampler_names as samplers
from atlas.core.importers.values import as_float, as_int

INT64_MAX = (1 << 63) - 1


@dataclass
class Generation:
    """Pass fields found in a file's metadata (all optional)."""

    tool: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    sampler: str | None = None
    steps: int | None = None
    cfg: float | None = None
    denoise: float | None = None
    width: int | None = None
    height: int | None = None
    settings: dict = field(default_factory=dict)
    # The sampling passes before this one, oldest first, when the file records several (a ComfyUI
    # hires fix or refiner graph): this Generation is the pass that made the image itself.
    earlier: list["Generation"] = field(default_factory=list)


def json_safe(value):
    """`value` as plain JSON types (sets become sorted lists, objects their attributes or text).

    NaN and infinities, which Python's JSON reads from a file's text, become the text they were
    written as: standard JSON (and PostgreSQL's jsonb) has no such numbers.
    """
    text = json.dumps(value, default=lambda o: sorted(o, key=str) if isinstance(o, (set, frozenset))
                      else getattr(o, "__dict__", None) or str(o))
    return json.loads(text, parse_constant=str)


def set_seed(gen: Generation, value) -> None:
    """The seed as a number when it fits the catalogue's 64-bit column, else as text in settings["seed"].

    ComfyUI and Fooocus allow unsigned 64-bit seeds: one above 2**63-1 is kept whole, as text,
    never wrapped or cut. A seed written as text ("6952411511246973023") is read as a number.
    """
    seed = as_int(value) if not isinstance(value, bool) else None
    gen.settings.pop("seed", None)
    if seed is not None and abs(seed) > INT64_MAX:
        gen.settings["seed"] = str(seed)
        seed = None
    gen.seed = seed


def set_sampler(gen: Generation, written, schedule=None) -> None:
    """A1111's name for the sampler the tool wrote (its own spelling kept in settings["sampler_original"])
    and the schedule type (settings["schedule_type"]): from `schedule` when the tool writes one apart,
    else from the sampler name itself ("k_dpmpp_2m_karras")."""
    text = written.strip() if isinstance(written, str) else None
    name, implied = samplers.normalise(text)
    gen.sampler = name
    if text:
        gen.settings["sampler_original"] = text
    schedule_text = schedule.strip() if isinstance(schedule, str) and schedule.strip() else None
    found = samplers.schedule_type(schedule_text) or schedule_text or implied
    if found:
        gen.settings["schedule_type"] = found


def number_fields(gen: Generation, steps=None, cfg=None, denoise=None, width=None, height=None) -> None:
    """The numeric pass fields, each None unless the value reads as a number."""
    gen.steps, gen.cfg, gen.denoise = as_int(steps), as_float(cfg), as_float(denoise)
    gen.width, gen.height = as_int(width), as_int(height)


def text(value) -> str:
    """A prompt as the tool wrote it: text unchanged (trailing newlines included), anything else ""."""
    return value if isinstance(value, str) else ""


def load_object(value) -> dict | None:
    """The JSON object in `value` (text, NULs at the end allowed), or None when it holds none."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    try:
        doc = json.loads(value.strip().rstrip("\0"))
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None
