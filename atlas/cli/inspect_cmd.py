import click

from atlas.cli.common import echo, echo_json, json_option


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@json_option
@click.pass_context
def inspect(ctx, file, as_json):
    """Show everything embedded in an image: A1111 parameters, atlas record, XMP, EXIF, C2PA.

    Works on any PNG, JPEG or WebP file, also ones atlas never made. C2PA manifests are reported
    as Trusted when signed under the configured trust anchor (atlas's own CA by default).
    """
    from atlas.core.actions import inspecting

    facts = inspecting.inspect(file, ctx.find_root().obj.get("home"))
    if as_json:
        echo_json(facts)
        return
    show(facts)


def show(facts: dict) -> None:
    echo(f"file      {facts['file']}")
    echo(f"format    {facts['format']} {facts['width']}x{facts['height']}, {facts['size_bytes']} bytes")
    echo(f"sha256    {facts['sha256']}")
    params = facts["parameters"]
    if params:
        echo(f"prompt    {params['prompt']}")
        echo(f"negative  {params['negative_prompt'] or '-'}")
        for key, value in params["params"].items():
            echo(f"  {key}: {value}")
    record = facts["record"]
    if record:
        lineage = record.get("lineage") if isinstance(record, dict) else None
        lineage = lineage if isinstance(lineage, list) else []
        kinds = ", ".join(str(step.get("kind")) for step in lineage if isinstance(step, dict))
        echo(f"atlas     record of render {_render_id(record)}: {len(lineage)} passes ({kinds})")
    for key, value in (facts["xmp"] or {}).items():
        if key != "atlas:Provenance":
            echo(f"xmp       {key}: {value}")
    if facts["exif_user_comment"] and not params:
        echo(f"exif      UserComment: {facts['exif_user_comment']}")
    for key, value in facts["text"].items():
        echo(f"text      {key}: {value[:200]}")
    c2pa = facts["c2pa"]
    if c2pa:
        echo(f"c2pa      {c2pa['validation_state']}, {len(c2pa['manifests'])} manifests in the chain")
        for manifest in c2pa["manifests"]:
            actions = ", ".join(a["action"] for a in manifest["actions"])
            echo(f"  {manifest['label']}: {actions} (signed by {manifest['signer']})")
        for failure in c2pa["failures"]:
            echo(f"  failure: {failure}")
    else:
        echo("c2pa      none")
    for problem in facts["problems"]:
        echo(f"problem   {problem}")
    if not (params or record or facts["xmp"] or facts["exif_user_comment"] or facts["text"] or c2pa):
        echo("no embedded metadata found")


def _render_id(record) -> object:
    """The render id a record names; a record of the wrong shape (a schema problem, listed) names none."""
    render = record.get("render") if isinstance(record, dict) else None
    return render.get("id") if isinstance(render, dict) else None
