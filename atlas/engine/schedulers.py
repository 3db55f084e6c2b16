"""Build the diffusers scheduler for an A1111 sampler name (see atlas.core.record.samplers)."""

import diffusers

from atlas.core.record.samplers import SAMPLERS, canonical


def make(base_config, sampler: str):
    spec = SAMPLERS[canonical(sampler)]
    cls = getattr(diffusers, spec.scheduler)
    # Reset options a previous sampler may have left in the config, then apply this sampler's.
    cleared = {"use_karras_sigmas": False}
    return cls.from_config(base_config, **{**cleared, **spec.options})
