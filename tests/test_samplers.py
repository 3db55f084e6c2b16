"""A1111 sampler names map to diffusers schedulers set up like k-diffusion."""

import numpy as np
import pytest

from atlas.core.errors import BadInput
from atlas.core.record.samplers import SAMPLERS, canonical


def kdiffusion_sigmas(alphas_cumprod: np.ndarray, n: int) -> np.ndarray:
    """k-diffusion's DiscreteSchedule.get_sigmas: log-sigma interpolation over linspace(999, 0, n)."""
    sigmas = np.sqrt((1 - alphas_cumprod) / alphas_cumprod)
    log_sigmas = np.log(sigmas)
    t = np.linspace(len(sigmas) - 1, 0, n)
    low = np.floor(t).astype(int)
    high = np.minimum(low + 1, len(sigmas) - 1)
    w = t - low
    return np.append(np.exp((1 - w) * log_sigmas[low] + w * log_sigmas[high]), 0.0)


@pytest.mark.parametrize("steps", [20, 50, 150])
def test_euler_a_sigmas_match_kdiffusion(demo_model_dir, steps):
    from diffusers import EulerAncestralDiscreteScheduler

    from atlas.engine.schedulers import make

    base = EulerAncestralDiscreteScheduler.from_pretrained(demo_model_dir / "scheduler")
    base = base.__class__.from_config(base.config, timestep_spacing="leading")  # as a saved pipeline may have
    scheduler = make(base.config, "Euler a")
    scheduler.set_timesteps(steps)
    expected = kdiffusion_sigmas(scheduler.alphas_cumprod.numpy().astype(np.float64), steps)
    got = scheduler.sigmas.numpy().astype(np.float64)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got[:-1], expected[:-1], rtol=1e-3)
    assert got[-1] == 0


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_builds_and_sets_timesteps(demo_model_dir, name):
    import diffusers

    from atlas.engine.schedulers import make

    base = diffusers.EulerAncestralDiscreteScheduler.from_pretrained(demo_model_dir / "scheduler")
    scheduler = make(base.config, name)
    assert type(scheduler).__name__ == SAMPLERS[name].scheduler
    scheduler.set_timesteps(10)
    assert len(scheduler.timesteps) >= 10


def test_karras_flag_does_not_leak_between_samplers(demo_model_dir):
    import diffusers

    from atlas.engine.schedulers import make

    base = diffusers.EulerAncestralDiscreteScheduler.from_pretrained(demo_model_dir / "scheduler")
    karras = make(base.config, "DPM++ 2M Karras")
    assert karras.config.use_karras_sigmas is True
    assert make(karras.config, "DPM++ 2M").config.use_karras_sigmas is False


def test_unknown_sampler_lists_the_known_ones():
    assert canonical("euler A") == "Euler a"
    with pytest.raises(BadInput, match="known samplers: Euler a, Euler"):
        canonical("Euler b")
