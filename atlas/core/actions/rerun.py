"""What re-running a render means: the settings the engine makes it again from, with a new seed."""

from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Pass, Run
from atlas.core.errors import BadInput
from atlas.core.record.build import build, get_render


def rerun_settings(catalogue: Catalogue, render_id: int | str) -> dict:
    """What re-running a render with a new seed means (the seed itself is the caller's choice).

    A single-pass txt2img render gives its txt2img settings; the final render of a recipe run gives
    the run's recipe (`{"recipe": ..., "recipe_name": ...}`), so the whole chain is made again.
    """
    with catalogue.session() as session:
        render = get_render(session, render_id)
        run = session.exec(select(Run).where(Run.final_render_id == render.id)).first()
        if run is not None:
            return {"recipe": run.recipe, "recipe_name": run.recipe_name, "run_id": run.id,
                    "title": render.title, "author": render.author, "licence": render.licence_id}
        record = build(session, render)
    lineage = record["lineage"]
    if len(lineage) != 1 or lineage[0]["kind"] != "txt2img":
        kinds = " -> ".join(step["kind"] for step in lineage) or "no pass"
        raise BadInput(f"render {render_id} was made by {kinds} outside a recipe run; only a txt2img render "
                       "or the final render of a recipe run can be re-run")
    step, facts = lineage[0], record["render"]
    return {"title": facts.get("title"), "author": facts.get("author"),
            "licence": (facts.get("licence") or {}).get("id"), "prompt": step["prompt"],
            "negative_prompt": step["negative_prompt"], "steps": step["steps"],
            "sampler": step["sampler"], "cfg": step["cfg"], "width": step["width"], "height": step["height"],
            "model": (step.get("model") or {}).get("name")}


def unfinished_run(catalogue: Catalogue, render_id: int | str) -> dict | None:
    """The recipe run that made `render_id` when that run did not complete (failed, interrupted, or
    still marked running), as {"run_id", "status", "recipe_name"}; None otherwise."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
        step = session.exec(select(Pass).where(Pass.render_id == render.id)).first()
        run = session.get(Run, step.run_id) if step is not None and step.run_id else None
        if run is None or run.status == "completed":
            return None
        return {"run_id": run.id, "status": run.status, "recipe_name": run.recipe_name}
