"""The facts of one render: parameters, model and licence with its use restrictions, output licence,
C2PA state and file path. Text only; the preview and lineage tree sit beside it."""

from pathlib import Path

from rich.markup import escape
from textual.widgets import Static

from atlas.core.terminal import safe
from atlas.tui.widgets.lineage import number


def short_path(path: str | None) -> str:
    """`path` with the user's home written `~`, as shells and file managers show it."""
    if not path:
        return "-"
    try:
        return "~/" + Path(path).relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):  # elsewhere, or no home directory known
        return path


def facts_text(facts: dict) -> str:
    record = facts["record"]
    render = record["render"]
    lineage = record["lineage"]
    lines = [f"[b]render {facts['id']}[/b]  {escape(render.get('title') or '')}",
             f"[b]size[/b]      {render['width']}x{render['height']} {render['format']}, "
             f"{facts['size_bytes']:,} bytes",
             f"[b]created[/b]   {render['created']}   [b]author[/b] {escape(render.get('author') or '-')}"]
    if facts["tags"]:
        lines.append(f"[b]tags[/b]      {escape(' '.join(facts['tags']))}")
    if facts.get("rating") or facts.get("hidden"):  # the curator's judgement, beside the record
        judged = ["★" * (facts.get("rating") or 0), "hidden (searches leave it out)" if facts.get("hidden") else ""]
        lines.append(f"[b]judged[/b]    {', '.join(filter(None, judged))}")
    if lineage:
        first, last = lineage[0], lineage[-1]
        lines.append(f"[b]prompt[/b]    {escape(first['prompt'])}")
        lines.append(f"[b]negative[/b]  {escape(first['negative_prompt'] or 'none')}")
        params = [f"{label} {number(last[key])}" for label, key in (("sampler", "sampler"), ("steps", "steps"),
                  ("CFG", "cfg"), ("seed", "seed"), ("denoising", "denoise")) if last.get(key) is not None]
        lines.append(f"[b]last pass[/b] {last['kind']}: {escape(', '.join(params))}")
    models = {}
    for step in lineage:
        for role in ("model", "upscaler"):
            if step.get(role):
                models[step[role]["name"]] = step[role]
    for step in lineage:  # an imported file names its model in its settings (atlas has no Model row for it)
        settings = step.get("settings") or {}
        if not step.get("model") and settings.get("model"):
            hashed = f", model hash {settings['model_hash']}" if settings.get("model_hash") else ""
            lines.append(f"[b]model[/b]     {escape(str(settings['model']))}{escape(hashed)} (as the file names it)")
    for model in models.values():
        demo = " [i](demo model: random weights)[/i]" if model["demo"] else ""
        licence = model["licence"]["name"] if model.get("licence") else "-"
        lines.append(f"[b]model[/b]     {escape(model['name'])} ({model['kind']}, hash {model['short_hash']})"
                     f", licence {escape(licence)}{demo}")
    output = render.get("licence")
    named = escape(f"{output['name']} ({output['id']})") if output else "none set"
    lines.append(f"[b]output licence[/b] {named}")
    if render.get("tool") and render["tool"] != "atlas":
        lines.append(f"[b]made with[/b] {escape(render['tool'])} (imported)")
    lines.append(f"[b]C2PA[/b]      {facts['c2pa']}")
    state = "" if facts["exists"] else "  [red](missing)[/red]"
    linked = "  (linked, not copied)" if facts.get("linked") else ""
    lines.append(f"[b]file[/b]      {escape(short_path(facts['path']))}{linked}{state}")
    for licence in facts["model_licences"]:
        if licence["output_rights"]:
            lines.append(f"[b]{escape(licence['name'])}[/b] on outputs: {escape(licence['output_rights'])}")
        if licence["restrictions"]:
            lines.append(f"[b]use restrictions[/b] of {escape(licence['name'])}:")
            lines += [f"  • {escape(item)}" for item in licence["restrictions"]]
    return safe("\n".join(lines), multiline=True)  # Textual passes ESC, NUL and C1 to the terminal


class DetailPane(Static):
    def show(self, facts: dict) -> None:
        self.update(facts_text(facts))
