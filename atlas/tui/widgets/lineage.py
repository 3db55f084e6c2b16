"""The lineage as a tree: txt2img → outpaint ×14 → upscale ×2, each pass expandable to its settings."""

from textual.widgets import Tree

from atlas.core.terminal import safe
from atlas.tui.lazy import lazy_attribute

groups = lazy_attribute("atlas.core.commons.procedure", "groups")  # the detail screen's; tui/lazy.py

SETTING_KEYS = (("seed", "seed"), ("sampler", "sampler"), ("steps", "steps"), ("steps_run", "steps run"),
                ("cfg", "CFG"), ("denoise", "denoising"), ("device", "device"), ("duration_s", "seconds"))


def size_of(step: dict) -> str:
    output = step.get("output") or {}
    return f"{output.get('width')}x{output.get('height')}"


def number(value):
    """A float as a person writes it: 0.52, not the 0.5199999999999996 arithmetic left (other values as they are)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def short(value) -> str:
    text = str(value)
    return text if len(text) <= 70 else text[:69] + "…"


class LineageTree(Tree):
    """Node data: ("pass", index into the lineage, render id it produced) for pass nodes."""

    def show(self, lineage: list[dict], pass_renders: list[int]) -> None:
        self.clear()
        self.root.set_label(f"lineage: {len(lineage)} pass{'es' if len(lineage) != 1 else ''}")
        self.root.expand()
        index = 0
        for group in groups(lineage):  # the grouping the Commons page tells, so the two agree
            kind, steps = group.kind, group.passes
            label = kind if len(steps) == 1 else f"{kind} ×{len(steps)}"
            label += f"  → {size_of(steps[-1])}"
            group = self.root.add(label, expand=len(steps) == 1, data=None)
            for step in steps:
                render_id = pass_renders[index] if index < len(pass_renders) else None
                node = group.add(f"#{index + 1} {step['kind']} {size_of(step)}"
                                 + (f"  seed {step['seed']}" if step.get("seed") is not None else ""),
                                 data=("pass", index, render_id))
                self.add_settings(node, step, render_id)
                index += 1

    def add_settings(self, node, step: dict, render_id: int | None) -> None:
        if render_id is not None:
            node.add_leaf(f"render {render_id}")
        for key, label in SETTING_KEYS:
            if step.get(key) is not None:
                node.add_leaf(safe(f"{label}: {number(step[key])}"))  # imported samplers and devices are any text
        for key, value in (step.get("settings") or {}).items():
            node.add_leaf(safe(f"{key}: {short(value)}"))
        for role in ("model", "upscaler"):
            if step.get(role):
                node.add_leaf(safe(f"{role}: {step[role]['name']} [{step[role]['short_hash']}]"))
