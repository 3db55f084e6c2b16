"""Make a render again with a new seed, from `atlas.core.actions.rerun.rerun_settings`."""

from atlas.core.catalogue import Catalogue
from atlas.core.record.recipes import Recipe
from atlas.core.record.write import RenderInfo
from atlas.engine.generate import Txt2ImgRequest, generate
from atlas.engine.runner import RunProgress, run_recipe


def rerun(catalogue: Catalogue, settings: dict, progress: RunProgress) -> int:
    """The new render's id: a recipe run's whole recipe as a new run, or one txt2img pass.
    `settings["seed"]`, when given, is the new seed (else a random one)."""
    seed = settings.get("seed", -1)
    info = RenderInfo(title=settings.get("title"), author=settings.get("author"),
                      licence_id=settings.get("licence"))
    if "recipe" in settings:
        run = run_recipe(catalogue, Recipe(settings.get("recipe_name"), settings["recipe"]), seed=seed,
                         info=info, progress=progress)
        if run.final_render_id is None:
            raise RuntimeError(f"run {run.id} ended {run.status} without a final render")
        return run.final_render_id
    request = Txt2ImgRequest(prompt=settings["prompt"], negative_prompt=settings["negative_prompt"],
                             steps=settings["steps"], sampler=settings["sampler"], cfg=settings["cfg"],
                             width=settings["width"], height=settings["height"], seed=seed, model=settings["model"])
    return generate(catalogue, request, info, progress=progress.step).id
