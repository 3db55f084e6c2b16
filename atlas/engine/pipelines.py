"""Load a registered checkpoint as a diffusers pipeline, once per process."""

from functools import cache

from atlas.core.errors import BadInput
from atlas.engine.device import pick


def quiet() -> None:
    """Silence library progress bars and advice: atlas shows its own progress."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


@cache
def load(path: str, fmt: str, config: str | None = None):
    """The txt2img pipeline for a model folder or single file; img2img/inpaint share its parts."""
    from diffusers import StableDiffusionPipeline

    quiet()
    device = pick()
    if fmt == "diffusers":
        pipe = StableDiffusionPipeline.from_pretrained(path, dtype=device.dtype,
                                                       safety_checker=None, requires_safety_checker=False,
                                                       local_files_only=True)
    elif fmt == "single-file":
        if not config:
            raise BadInput(f"{path}: a single-file checkpoint needs a local pipeline config folder "
                           "(register it with --config DIR)")
        pipe = StableDiffusionPipeline.from_single_file(path, config=config, dtype=device.dtype,
                                                        local_files_only=True)
    else:
        raise BadInput(f"{path}: cannot load a {fmt!r} model as a diffusion pipeline")
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device.torch_device)


def for_model(model):
    return load(model.path, model.format, (model.config or {}).get("pipeline_config"))
