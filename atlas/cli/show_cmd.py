import click

from atlas.cli.common import console, echo, echo_json, json_option, open_catalogue
from atlas.core.limits import MAX_LIST_LIMIT
from atlas.core.terminal import safe


@click.command()
@click.argument("render_id")
@json_option
@click.option("--wikitext", is_flag=True, help="Print its Wikimedia Commons description page instead.")
@click.pass_context
def show(ctx, render_id, as_json, wikitext):
    """Show a render: its file, licence, and whole lineage with models and licences."""
    if wikitext:
        from atlas.core.actions import exporting

        text = exporting.wikitext(open_catalogue(ctx), render_id)
        if as_json:
            echo_json({"id": int(render_id), "wikitext": text})
        else:
            click.echo(safe(text, multiline=True), nl=False)
        return
    from atlas.core.actions import reading

    facts = reading.show(ctx.find_root().obj.get("home"), render_id)
    if as_json:
        echo_json(facts)
        return
    show_render(facts)


def pass_summary(step: dict) -> str:
    parts = [f"{step['output']['width']}x{step['output']['height']}"]
    for label, key in (("sampler", "sampler"), ("steps", "steps"), ("run", "steps_run"), ("cfg", "cfg"),
                       ("seed", "seed"), ("denoise", "denoise")):
        if step.get(key) is not None:
            parts.append(f"{label} {step[key]}")
    parts += [f"{k} {v}" for k, v in step["settings"].items() if not isinstance(v, (list, dict))]
    return ", ".join(parts)


def show_render(facts: dict) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    record, out = facts["record"], console()
    render = record["render"]
    out.print(f"[bold]render {facts['id']}[/bold]  {escape(safe(render.get('title') or ''))}")
    out.print(safe(f"file     {facts['path']}"), markup=False)
    out.print(f"sha256   {facts['sha256']}")
    out.print(f"size     {render['width']}x{render['height']} {render['format']}, {facts['size_bytes']} bytes")
    out.print(safe(f"created  {render['created']}   author {render.get('author') or '-'}"), markup=False)
    licence = render.get("licence")
    out.print(safe(f"licence  {licence['name'] + ' (' + licence['id'] + ')' if licence else '-'}"), markup=False)
    if facts["tags"]:
        out.print(safe("tags     " + " ".join(facts["tags"])), markup=False)
    if facts.get("rating") or facts.get("hidden"):  # the curator's judgement (`atlas rate`, `atlas hide`)
        judged = [f"rating {'*' * facts['rating']}" if facts.get("rating") else "",
                  "hidden" if facts.get("hidden") else ""]
        out.print("judged   " + ", ".join(filter(None, judged)), markup=False)
    first = record["lineage"][0]
    out.print(safe(f"prompt   {first['prompt']}", multiline=True), markup=False)
    out.print(safe(f"negative {first['negative_prompt'] or 'none'}", multiline=True), markup=False)
    table = Table(title=f"lineage: {len(record['lineage'])} passes", show_lines=False)
    for column in ("#", "kind", "settings", "model", "device", "time"):
        table.add_column(column)
    models = {}
    for i, step in enumerate(record["lineage"], 1):
        model = step.get("model")
        if model:
            models[model["name"]] = model
        if step.get("upscaler"):
            models[step["upscaler"]["name"]] = step["upscaler"]
        cells = (str(i), step["kind"], pass_summary(step), model["name"] if model else "-",
                 step.get("device") or "-", f"{step['duration_s']:.1f}s" if step.get("duration_s") else "-")
        table.add_row(*(Text(safe(cell)) for cell in cells))  # Text: never read as markup
    out.print(table, markup=False)
    for model in models.values():
        demo = "  [demo model: random weights]" if model["demo"] else ""
        out.print(safe(f"model    {model['name']} ({model['kind']}) sha256 {model['sha256']} "
                       f"hash {model['short_hash']}, licence {model['licence']['name']}{demo}"), markup=False)


@click.command("list")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_LIST_LIMIT), default=50, show_default=True)
@json_option
@click.pass_context
def list_renders(ctx, limit, as_json):
    """List the newest renders."""
    from atlas.core.actions import reading

    items = reading.newest(ctx.find_root().obj.get("home"), limit)
    if as_json:
        echo_json(items)
        return
    for item in items:
        echo(f"{item['id']:>6}  {item['created'][:19]}  {item['width']}x{item['height']:<5} "
             f"{item['kind'] or '-':<8} seed {item['seed']}  {safe(item['prompt'][:60])}")
