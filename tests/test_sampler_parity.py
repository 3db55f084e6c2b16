"""atlas's samplers against k-diffusion driven the way A1111 (>= 1.9) drives it, on the demo model.

The reference side is built here, independently of atlas: k-diffusion's CompVisDenoiser around the
demo UNet (with the model's alphas computed as the ldm code does), A1111's CFG on the denoised
halves (conditional first), sigmas from A1111's schedule formulas (modules/sd_schedulers.py) and
its discard-the-penultimate-sigma rule, A1111's start scaling, its per-image generators patched in
for k-diffusion's `torch.randn_like` draws (as A1111's TorchHijack does) and its Brownian tree
seeded with the image seeds over the whole schedule. Restart is A1111's own sampler: below 20
steps it is Heun on the schedule, above it is checked against the published algorithm written
out here. Seed 1234, CFG 7, a 64x64 image (8x8 latents).
"""

import math
from itertools import pairwise

import numpy as np
import pytest
import torch
from scipy import stats

from atlas.core.record.samplers import SAMPLERS, SCHEDULES
from tests.support import kdiffusion

# k-diffusion's Brownian tree is queried an ulp outside its range at the schedule's ends; torchsde warns.
pytestmark = pytest.mark.filterwarnings("ignore:Should have t:UserWarning")

SEED, CFG, STEPS, TOLERANCE = 1234, 7.0, 6, 1e-4
SHAPE = (4, 8, 8)
K_SAMPLERS = [name for name, spec in SAMPLERS.items() if spec.uses_sigmas]
AYS_SD1 = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029]


@pytest.fixture(scope="module")
def kd():
    return kdiffusion.load()


@pytest.fixture(scope="module")
def demo(demo_model_dir):
    from diffusers import StableDiffusionPipeline

    from atlas.engine import sampling
    from atlas.engine.pipelines import quiet

    quiet()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny UNet: threads only contend
    pipe = StableDiffusionPipeline.from_pretrained(demo_model_dir, safety_checker=None, requires_safety_checker=False)
    cond = sampling.encode_prompts(pipe, "a lighthouse at dusk", "blurry")
    init = torch.randn((1, *SHAPE), generator=torch.Generator().manual_seed(7)) * 0.8
    yield pipe, cond, init
    torch.set_num_threads(threads)


# --- the reference: A1111's drive of k-diffusion ------------------------------------------------------

def ldm_alphas_cumprod(config) -> torch.Tensor:
    betas = torch.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5, config["num_train_timesteps"],
                           dtype=torch.float64) ** 2
    return torch.tensor(np.cumprod(1.0 - betas.numpy(), axis=0), dtype=torch.float32)


class CompVisModel:
    """What k-diffusion's CompVisDenoiser wraps: alphas_cumprod and apply_model(x, t, cond)."""

    def __init__(self, unet, alphas_cumprod):
        self.unet, self.alphas_cumprod = unet, alphas_cumprod

    def apply_model(self, x, t, cond):
        return self.unet(x, t, encoder_hidden_states=cond).sample


class A1111CFG:
    """A1111's CFG denoiser for one image and one prompt pair, with its inpainting blend."""

    def __init__(self, inner, cond, cfg, init=None, latmask=None):
        self.inner, self.cond, self.cfg = inner, cond, cfg
        self.init = init
        self.mask = None if latmask is None else 1.0 - latmask
        self.nmask = latmask

    def __call__(self, x, sigma, **_):
        out = self.inner(torch.cat([x, x]), torch.cat([sigma, sigma]),
                         cond=torch.cat([self.cond.positive, self.cond.negative]))
        denoised = torch.clone(out[1:])
        denoised += (out[:1] - out[1:]) * (1.0 * self.cfg)
        if self.mask is not None:
            denoised = denoised * self.nmask + self.init * self.mask
        return denoised


def a1111_sigmas(kd, wrap, schedule: str, n: int) -> torch.Tensor:
    """modules/sd_schedulers.py, with the model's sigma range."""
    sampling, _ = kd
    lo, hi = wrap.sigmas[0].item(), wrap.sigmas[-1].item()
    if schedule == "Uniform":
        return wrap.get_sigmas(n)
    if schedule == "Karras":
        return sampling.get_sigmas_karras(n, lo, hi, rho=7.0)
    if schedule == "Exponential":
        return sampling.get_sigmas_exponential(n, lo, hi)
    if schedule == "Polyexponential":
        return sampling.get_sigmas_polyexponential(n, lo, hi, rho=1.0)
    if schedule in ("SGM Uniform", "Normal"):
        start, end = wrap.sigma_to_t(torch.tensor(hi)), wrap.sigma_to_t(torch.tensor(lo))
        ts = torch.linspace(start, end, n + 1)[:-1] if schedule == "SGM Uniform" else torch.linspace(start, end, n)
        return torch.FloatTensor([*(wrap.t_to_sigma(t).item() for t in ts), 0.0])
    if schedule == "KL Optimal":
        a_min, a_max = torch.arctan(torch.tensor(lo)), torch.arctan(torch.tensor(hi))
        idx = torch.arange(n + 1)
        return torch.tan(idx / n * a_min + (1.0 - idx / n) * a_max)
    if schedule == "Align Your Steps":
        if n == len(AYS_SD1):
            return torch.FloatTensor([*AYS_SD1, 0.0])
        xs, ys = np.linspace(0, 1, len(AYS_SD1)), np.log(AYS_SD1[::-1])
        interpolated = np.exp(np.interp(np.linspace(0, 1, n), xs, ys))[::-1].copy()
        return torch.FloatTensor(np.append(interpolated, [0.0]))
    if schedule == "Simple":
        ss = len(wrap.sigmas) / n
        return torch.FloatTensor([*(float(wrap.sigmas[-(1 + int(x * ss))]) for x in range(n)), 0.0])
    if schedule == "DDIM":
        ss, x, sigs = max(len(wrap.sigmas) // n, 1), 1, []
        while x < len(wrap.sigmas):
            sigs.append(float(wrap.sigmas[x]))
            x += ss
        return torch.FloatTensor([*sigs[::-1], 0.0])
    if schedule == "Beta":
        ts = [stats.beta.ppf(x, 0.6, 0.6) for x in 1 - np.linspace(0, 1, n)]
        return torch.FloatTensor([*(lo + x * (hi - lo) for x in ts), 0.0])
    raise AssertionError(schedule)


def a1111_get_sigmas(kd, wrap, sampler: str, schedule: str, steps: int) -> torch.Tensor:
    discard = sampler in ("DPM2", "DPM2 a", "DPM++ 3M SDE")
    sigmas = a1111_sigmas(kd, wrap, schedule, steps + 1 if discard else steps)
    return torch.cat([sigmas[:-2], sigmas[-1:]]) if discard else sigmas


class ImageRNG:
    """A1111's per-image generators (RNG source CPU): first() for the start, next() for later draws."""

    def __init__(self, seeds):
        self.generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]

    def next(self):
        return torch.stack([torch.randn(SHAPE, generator=g) for g in self.generators])

    first = next


class TorchHijack:
    """k-diffusion's `torch` as A1111 patches it: randn_like draws from the image generators."""

    def __init__(self, rng):
        self.rng = rng

    def __getattr__(self, item):
        return getattr(torch, item)

    def randn_like(self, x):
        return self.rng.next()


KD_FUNCTIONS = {"Euler a": "sample_euler_ancestral", "Euler": "sample_euler", "LMS": "sample_lms",
                "Heun": "sample_heun", "DPM2": "sample_dpm_2", "DPM2 a": "sample_dpm_2_ancestral",
                "DPM++ 2S a": "sample_dpmpp_2s_ancestral", "DPM++ 2M": "sample_dpmpp_2m",
                "DPM++ SDE": "sample_dpmpp_sde", "DPM++ 2M SDE": "sample_dpmpp_2m_sde",
                "DPM++ 2M SDE Heun": "sample_dpmpp_2m_sde", "DPM++ 3M SDE": "sample_dpmpp_3m_sde",
                "Restart": "sample_heun"}  # Restart below 20 steps: Heun on the schedule


def reference(kd, demo, sampler, schedule, denoise=None, latmask=None, monkeypatch=None, v=False):
    """The final latents A1111 computes: txt2img when denoise is None, else img2img from the init."""
    sampling, external = kd
    pipe, cond, init = demo
    model = CompVisModel(pipe.unet, ldm_alphas_cumprod(pipe.scheduler.config))
    wrap = (external.CompVisVDenoiser if v else external.CompVisDenoiser)(model)
    sigmas = a1111_get_sigmas(kd, wrap, sampler, schedule, STEPS)
    rng = ImageRNG([SEED])
    monkeypatch.setattr(sampling, "torch", TorchHijack(rng))
    if denoise is None:
        x, sched, cfg = rng.first() * sigmas[0], sigmas, A1111CFG(wrap, cond, CFG)
    else:
        t_enc = int(min(denoise, 0.999) * STEPS)
        sched = sigmas[STEPS - t_enc - 1:]
        x, cfg = init + rng.first() * sched[0], A1111CFG(wrap, cond, CFG, init, latmask)
    extra = {}
    if "SDE" in sampler:
        positive = sigmas[sigmas > 0]
        extra["noise_sampler"] = sampling.BrownianTreeNoiseSampler(x, positive.min(), sigmas.max(), seed=[SEED])
    if sampler == "DPM++ 2M SDE Heun":
        extra["solver_type"] = "heun"
    with torch.no_grad():
        out = getattr(sampling, KD_FUNCTIONS[sampler])(cfg, x, sched, disable=True, **extra)
    if latmask is not None:
        out = out * latmask + init * (1.0 - latmask)
    return out


def atlas_latents(demo, sampler, schedule, denoise=None, free=None, steps=STEPS):
    from atlas.engine import rng, sampling
    from atlas.engine.ksampling import drive
    from atlas.engine.ksampling.denoiser import for_pipeline

    pipe, cond, init = demo
    noise = rng.ImageNoise(SHAPE, [SEED])
    if denoise is None:
        denoiser = for_pipeline(pipe, cond.positive, cond.negative, CFG)
        return drive.txt2img(denoiser, sampler, schedule, steps, noise)
    return sampling.img2img_latents(pipe, init, cond, steps, denoise, sampler, CFG, [SEED], free,
                                    schedule=schedule, noise=noise)


# --- the tests --------------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("sampler", K_SAMPLERS)
def test_final_latents_match_kdiffusion_as_a1111_drives_it(kd, demo, monkeypatch, sampler, schedule):
    for denoise in (None, 0.3, 0.75):
        got, run = atlas_latents(demo, sampler, schedule, denoise)
        expected = reference(kd, demo, sampler, schedule, denoise, monkeypatch=monkeypatch)
        what = f"{sampler} / {schedule} / {'txt2img' if denoise is None else f'img2img {denoise}'}"
        assert got.shape == expected.shape, what
        assert torch.isfinite(got).all(), what
        difference = (got - expected).abs().max().item()
        assert difference < TOLERANCE, f"{what}: differs by {difference:g}"
        steps = STEPS if denoise is None else int(min(denoise, 0.999) * STEPS) + 1
        if schedule == "DDIM":  # A1111's DDIM schedule can hold more sigmas than steps asked for
            steps = run
        assert run == steps, what


@pytest.mark.parametrize("sampler", ["Euler a", "DPM++ 2M", "DPM++ 2M SDE"])
def test_inpainting_holds_the_init_latent_as_a1111_does(kd, demo, monkeypatch, sampler):
    free = torch.zeros((1, 1, 8, 8))
    free[..., 4:] = 1.0
    free[..., 3] = 0.5
    got, _ = atlas_latents(demo, sampler, "Karras", 0.75, free)
    expected = reference(kd, demo, sampler, "Karras", 0.75, latmask=free, monkeypatch=monkeypatch)
    assert (got - expected).abs().max().item() < TOLERANCE
    init = demo[2]
    assert torch.equal(got[..., :3], init[..., :3])  # held exactly where the mask is 0
    assert not torch.allclose(got[..., 5:], init[..., 5:], atol=0.1)


def test_v_prediction_matches_kdiffusion_v_denoiser(kd, demo, monkeypatch):
    from atlas.engine import rng
    from atlas.engine.ksampling import drive
    from atlas.engine.ksampling.denoiser import for_pipeline

    pipe, cond, _ = demo
    denoiser = for_pipeline(pipe, cond.positive, cond.negative, CFG)
    denoiser.v_prediction = True
    got, _ = drive.txt2img(denoiser, "DPM++ 2M", "Karras", STEPS, rng.ImageNoise(SHAPE, [SEED]))
    expected = reference(kd, demo, "DPM++ 2M", "Karras", monkeypatch=monkeypatch, v=True)
    assert (got - expected).abs().max().item() < TOLERANCE


def restart_reference(kd, denoiser, x, sigmas, rng):
    """Restart as A1111 publishes it, written from the description: Heun steps; at 20+ steps the
    schedule becomes Karras over steps - restart_steps * times, and at the sigma nearest 0.1 the
    latents are noised back to the sigma nearest 2 and walked down a Karras ramp of restart_steps + 1."""
    sampling, _ = kd
    n = len(sigmas) - 1
    restart_steps, times = (n // 4, 2) if n >= 36 else (9, 1)
    sigmas = sampling.get_sigmas_karras(n - restart_steps * times, sigmas[-2].item(), sigmas[0].item())
    at = int(torch.argmin((sigmas - 0.1).abs()))
    top = int(torch.argmin((sigmas - 2).abs()))
    ramp = sampling.get_sigmas_karras(restart_steps + 1, sigmas[at].item(), sigmas[top].item())[:-1]
    path = [(sigmas[i], sigmas[i + 1]) for i in range(at)]
    for _ in range(times):
        path += list(pairwise(ramp))
    path += [(sigmas[i], sigmas[i + 1]) for i in range(at, len(sigmas) - 1)]
    one = x.new_ones([1])
    previous = None
    for sigma, nxt in path:
        if previous is not None and previous < sigma:
            x = x + rng.next() * (sigma ** 2 - previous ** 2) ** 0.5
        d = (x - denoiser(x, sigma * one)) / sigma
        if nxt == 0:
            x = x + d * (nxt - sigma)
        else:
            x_2 = x + d * (nxt - sigma)
            d_2 = (x_2 - denoiser(x_2, nxt * one)) / nxt
            x = x + (d + d_2) / 2 * (nxt - sigma)
        previous = nxt
    return x, len(path)


@pytest.mark.parametrize("steps", [20, 36])
def test_restart_follows_its_published_algorithm(kd, demo, steps):
    _, external = kd
    pipe, cond, _ = demo
    wrap = external.CompVisDenoiser(CompVisModel(pipe.unet, ldm_alphas_cumprod(pipe.scheduler.config)))
    sigmas = a1111_get_sigmas(kd, wrap, "Restart", "Karras", steps)
    rng = ImageRNG([SEED])
    with torch.no_grad():
        expected, count = restart_reference(kd, A1111CFG(wrap, cond, CFG), rng.first() * sigmas[0], sigmas, rng)
    got, run = atlas_latents(demo, "Restart", "Karras", steps=steps)
    assert count == steps and run == steps
    assert (got - expected).abs().max().item() < TOLERANCE


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("n", [1, 6, 10, 11, 20])
def test_schedules_are_a1111s(kd, demo_model_dir, schedule, n):
    import json

    from atlas.engine.ksampling import schedules
    from atlas.engine.ksampling.discrete import DiscreteSigmas

    config = json.loads((demo_model_dir / "scheduler" / "scheduler_config.json").read_text())
    alphas = ldm_alphas_cumprod(config)
    _, external = kd
    wrap = external.CompVisDenoiser(CompVisModel(None, alphas))
    expected = a1111_sigmas(kd, wrap, schedule, n)
    got = schedules.sigmas(schedule, n, DiscreteSigmas(alphas))
    assert got.dtype == torch.float32 and got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0)
    assert math.isclose(got[0].item(), 14.6146, rel_tol=1e-4) or schedule == "DDIM" or n == 1


@pytest.mark.parametrize("sampler", ["Euler a", "DPM2 a", "DPM++ SDE", "DPM++ 3M SDE"])
def test_an_image_does_not_depend_on_its_batch(demo, sampler):
    """Per-image generators and per-seed Brownian trees: the second image of a batch is the image its
    seed makes alone (as A1111 intends; the UNet's batch arithmetic may differ by rounding)."""
    from atlas.engine import sampling

    pipe, cond, init = demo
    alone, _ = sampling.img2img_latents(pipe, init, cond, STEPS, 0.75, sampler, CFG, [SEED], schedule="Karras")
    pair, _ = sampling.img2img_latents(pipe, init.repeat(2, 1, 1, 1), cond, STEPS, 0.75, sampler, CFG,
                                       [99, SEED], schedule="Karras")
    assert (pair[1:] - alone).abs().max().item() < TOLERANCE
    assert (pair[:1] - alone).abs().max().item() > 0.01
