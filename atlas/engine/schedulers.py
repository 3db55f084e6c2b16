"""The diffusers schedulers that run A1111's timestep samplers (DDIM, PLMS, UniPC) until atlas has
their own loops; every other sampler runs in `atlas.engine.ksampling`."""

import diffusers

_SCHEDULERS = {
    # A1111's DDIM and PLMS use CompVis' uniform discretisation: every (1000 // n)th step, offset by one.
    "DDIM": ("DDIMScheduler", {"timestep_spacing": "leading", "steps_offset": 1, "set_alpha_to_one": False}),
    "PLMS": ("PNDMScheduler", {"timestep_spacing": "leading", "steps_offset": 1, "skip_prk_steps": True,
                               "set_alpha_to_one": False}),
    "UniPC": ("UniPCMultistepScheduler", {"timestep_spacing": "linspace"}),
}


def make(base_config, sampler: str):
    """The diffusers scheduler for a timestep sampler (A1111's name), built from a pipeline's config."""
    name, options = _SCHEDULERS[sampler]
    return getattr(diffusers, name).from_config(base_config, **options)
