"""Run a recipe as a Run: every pass recorded with its position, resumable at the first unfinished one.

Everything that can be refused (the recipe, the model, the upscalers, each pass's settings) is
checked before the Run row exists. Each pass is committed on its own, so a failure, Ctrl-C or
SIGKILL keeps every finished pass and its render; `resume` continues from the first position that
has no completed pass, reading the previous render from the store exactly as a straight run does.
Pass k of a run uses seed + k, so a resumed run makes the same pictures as an uninterrupted one.

A run is run by one process at a time (atlas.core.catalogue.claims): a new run's row is inserted
already claimed, `resume` claims it before touching anything, and a second process is refused
with the holder named (RunClaimed, exit 1) unless the holder is dead.
"""

from dataclasses import dataclass, replace

from sqlmodel import select

from atlas.core import settings
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.claims import Holding, Owner, claim_fields, holding
from atlas.core.catalogue.retry import retried_transaction
from atlas.core.catalogue.tables import Pass, Run, utcnow
from atlas.core.errors import BadInput, NotFound
from atlas.core.record import recipes
from atlas.core.record.models import DEMO_MODEL_NAME
from atlas.core.record.write import RenderInfo, check_licence, failure_recorded
from atlas.engine import demo_model, passes, upscalers
from atlas.engine.generate import Txt2ImgRequest, generate, resolve_model


class RunProgress:
    """What the runner reports; the CLI draws it, tests may record it."""

    def start_pass(self, index: int, total: int, label: str) -> None:  # index counts from 1
        pass

    def step(self, done: int, total: int) -> None:
        pass


@dataclass
class Planned:
    spec: recipes.PassSpec
    request: object


def plan(document: dict, model_name: str, seed: int) -> list[Planned]:
    """The checked request of every pass, in order (raises BadInput naming the recipe path)."""
    prompt, negative = document["prompt"], document.get("negative_prompt", "")
    out = []
    for position, spec in enumerate(recipes.expand(document)):
        values = dict(spec.settings)
        try:
            if spec.kind == "txt2img":
                request = Txt2ImgRequest(prompt=prompt, negative_prompt=negative, seed=seed + position,
                                         model=model_name, **values).checked()
            else:
                cls = {"img2img": passes.Img2ImgRequest, "outpaint": passes.OutpaintRequest,
                       "upscale": passes.UpscaleRequest}[spec.kind]
                values.setdefault("prompt", prompt)
                values.setdefault("negative_prompt", negative)
                request = cls(seed=seed + position, model=model_name, **values).checked()
        except BadInput as exc:
            raise BadInput(f"{spec.path}: {exc}") from None
        out.append(Planned(spec, request))
    return out


def label(spec: recipes.PassSpec) -> str:
    if spec.kind == "outpaint":
        return f"outpaint {spec.settings.get('side', 'left')}"
    if spec.kind == "upscale":
        return f"upscale x{spec.settings.get('scale', 2):g}"
    return spec.kind


def prepare(catalogue: Catalogue, document: dict) -> tuple[dict, list[Planned]]:
    """Resolve the seed and model, check every pass and upscaler: nothing is recorded yet."""
    recipes.validate(document)
    resolved = dict(document)
    seed = resolved.get("seed", -1)
    resolved["seed"] = settings.resolve_seed(-1 if seed is None else seed)
    name = resolved.get("model")
    if name == DEMO_MODEL_NAME:
        demo_model.ensure(catalogue)
    resolved["model"] = resolve_model(catalogue, name).name
    planned = plan(resolved, resolved["model"], resolved["seed"])
    for item in planned:
        if item.spec.kind == "upscale":
            try:
                upscalers.resolve(catalogue, item.request.upscaler)
            except BadInput as exc:
                raise BadInput(f"{item.spec.path}.upscaler: {exc}") from None
    return resolved, planned


def run_recipe(catalogue: Catalogue, recipe: recipes.Recipe | dict, *, model: str | None = None,
               seed: int | None = None, upscaler: str | None = None, info: RenderInfo | None = None,
               progress: RunProgress | None = None) -> Run:
    """Run `recipe` (a Recipe or a document) from the start as a new Run; returns the Run."""
    if isinstance(recipe, dict):
        recipe = recipes.Recipe(recipe.get("name"), recipe)
    document = recipes.with_overrides(recipe.document, model=model, seed=seed, upscaler=upscaler)
    info = check_licence(catalogue, info or RenderInfo())
    resolved, planned = prepare(catalogue, document)
    owner = Owner.this_process()
    with catalogue.session() as session:
        run = Run(recipe_name=recipe.name, recipe=resolved, status="running", **claim_fields(owner))
        session.add(run)
        session.commit()
        run_id = run.id
    with holding(catalogue, run_id, owner) as held:
        return execute(catalogue, run_id, planned, info, progress or RunProgress(), held)


def resume(catalogue: Catalogue, run_id: int, info: RenderInfo | None = None,
           progress: RunProgress | None = None) -> Run:
    """Continue run `run_id` at its first unfinished pass. Raises RunClaimed when another live
    process is running it."""
    run = _run_row(catalogue, run_id)
    if run.status == "completed":
        return run
    with holding(catalogue, run_id) as held:
        run = _run_row(catalogue, run_id)  # as the previous holder left it
        if run.status == "completed":
            return run
        document = run.recipe
        info = check_licence(catalogue, info or RenderInfo())
        resolved, planned = prepare(catalogue, document)
        if resolved != document:
            raise BadInput(f"run {run_id}: its recorded recipe no longer resolves the same way "
                           "(the model or seed changed)")
        clear_leftovers(catalogue, run_id)
        return execute(catalogue, run_id, planned, info, progress or RunProgress(), held)


def _run_row(catalogue: Catalogue, run_id: int) -> Run:
    with catalogue.session() as session:
        run = session.get(Run, run_id) if 0 < run_id <= settings.MAX_INT else None
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    return run


def clear_leftovers(catalogue: Catalogue, run_id: int) -> None:
    """After a hard kill: passes left `running` become `interrupted`, and what a killed pass had
    recorded it was about to store (its render row and the file at that row's store path; see
    write.finish_pass) is removed. Only those paths: a file another writer is storing is never named
    by this run's passes, so it is never touched."""
    from atlas.core.record.write import intended_leftovers

    with catalogue.session() as session:
        stale = session.exec(select(Pass).where(Pass.run_id == run_id, Pass.status == "running")).all()
        stale_ids = [step.id for step in stale]
        for step in stale:
            step.status, step.error, step.ended = "interrupted", "the process stopped during this pass", utcnow()
        session.commit()
    intended_leftovers(catalogue, stale_ids)


def completed_renders(catalogue: Catalogue, run_id: int) -> dict[int, int]:
    with catalogue.session() as session:
        rows = session.exec(select(Pass.position, Pass.render_id)
                            .where(Pass.run_id == run_id, Pass.status == "completed")).all()
    return {position: render_id for position, render_id in rows}


@retried_transaction
def set_status(catalogue: Catalogue, run_id: int, status: str, error: str | None = None,
               final_render_id: int | None = None) -> Run:
    with catalogue.session() as session:
        run = session.get(Run, run_id)
        run.status, run.error, run.updated = status, error, utcnow()
        if final_render_id is not None:
            run.final_render_id = final_render_id
        session.commit()
        session.refresh(run)
        return run


def execute(catalogue: Catalogue, run_id: int, planned: list[Planned], info: RenderInfo,
            progress: RunProgress, held: Holding) -> Run:
    """Run the passes `run_id` has not completed; `held` is this process's claim on the run."""
    done = completed_renders(catalogue, run_id)
    set_status(catalogue, run_id, "running")
    previous = None
    total = len(planned)

    def mark(status: str, error: str | None) -> None:
        if not held.lost:  # a process that lost the run leaves its row to the new holder
            set_status(catalogue, run_id, status, error)

    with failure_recorded(mark):
        for position, item in enumerate(planned):
            if position in done:
                previous = done[position]
                continue
            held.check()  # taken over by another process (this one was thought dead): stop here
            progress.start_pass(position + 1, total, label(item.spec))
            pass_info = replace(info, tags=list(info.tags))  # its licence stays checked
            if item.spec.kind == "txt2img":
                render = generate(catalogue, item.request, pass_info, progress=progress.step,
                                  run_id=run_id, position=position)
            else:
                function = getattr(passes, item.spec.kind)
                render = function(catalogue, previous, item.request, pass_info, progress=progress.step,
                                  run_id=run_id, position=position)
            previous = render.id
    return set_status(catalogue, run_id, "completed", final_render_id=previous)
