"""Sampler names as A1111 spells them, and the diffusers scheduler each maps to.

Kept free of torch so the CLI can validate a name (and list the known ones) before loading a model.
A1111 (through k-diffusion) spaces its timesteps over linspace(999, 0, n); diffusers schedulers
saved with a pipeline default to "leading", so the spacing is always set explicitly here.
"""

from dataclasses import dataclass, field

from atlas.core.errors import BadInput


@dataclass(frozen=True)
class SamplerSpec:
    scheduler: str  # class name in diffusers
    options: dict = field(default_factory=dict)


_LINSPACE = {"timestep_spacing": "linspace"}

SAMPLERS: dict[str, SamplerSpec] = {
    "Euler a": SamplerSpec("EulerAncestralDiscreteScheduler", _LINSPACE),
    "Euler": SamplerSpec("EulerDiscreteScheduler", _LINSPACE),
    "LMS": SamplerSpec("LMSDiscreteScheduler", _LINSPACE),
    "Heun": SamplerSpec("HeunDiscreteScheduler", _LINSPACE),
    "DPM2": SamplerSpec("KDPM2DiscreteScheduler", _LINSPACE),
    "DPM2 a": SamplerSpec("KDPM2AncestralDiscreteScheduler", _LINSPACE),
    "DPM++ 2M": SamplerSpec("DPMSolverMultistepScheduler",
                            {**_LINSPACE, "algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ 2M Karras": SamplerSpec("DPMSolverMultistepScheduler",
                                   {**_LINSPACE, "algorithm_type": "dpmsolver++", "solver_order": 2,
                                    "use_karras_sigmas": True}),
    "DPM++ SDE": SamplerSpec("DPMSolverSinglestepScheduler", {**_LINSPACE, "algorithm_type": "dpmsolver++"}),
    "DPM++ 2M SDE": SamplerSpec("DPMSolverMultistepScheduler",
                                {**_LINSPACE, "algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "UniPC": SamplerSpec("UniPCMultistepScheduler", _LINSPACE),
    # A1111's DDIM uses CompVis' uniform discretisation: every (1000 // n)th step, offset by one.
    "DDIM": SamplerSpec("DDIMScheduler", {"timestep_spacing": "leading", "steps_offset": 1,
                                          "set_alpha_to_one": False}),
    "PLMS": SamplerSpec("PNDMScheduler", {"timestep_spacing": "leading", "steps_offset": 1,
                                          "skip_prk_steps": True, "set_alpha_to_one": False}),
}


def canonical(name: str) -> str:
    """The A1111 spelling of `name` (matched case-insensitively), or a BadInput listing the known."""
    if name in SAMPLERS:
        return name
    for known in SAMPLERS:
        if known.lower() == name.strip().lower():
            return known
    raise BadInput(f"unknown sampler {name!r}; known samplers: " + ", ".join(SAMPLERS))

