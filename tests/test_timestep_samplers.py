"""DDIM, PLMS and UniPC as A1111 runs them (atlas/engine/timestep_samplers.py), checked on the demo
UNet (CFG 7, seed 1234, 8x8 latents) against references written here from the published methods:
diffusers' DDIMScheduler (clip_sample off) for DDIM, the PNDM paper's transfer for PLMS and the
UniPC paper's B(h) predictor-corrector for UniPC. The grids are written out by hand."""

import itertools
import math

import numpy as np
import pytest
import torch

from atlas.core.errors import BadInput
from atlas.engine import timestep_samplers as ts
from atlas.engine.rng import ImageNoise

CFG = 7.0
SEED = 1234
SHAPE = (4, 8, 8)
TOL = 1e-4


@pytest.fixture(scope="module")
def demo(demo_model_dir):
    from diffusers import DDIMScheduler, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(demo_model_dir, subfolder="unet").eval()
    scheduler_config = DDIMScheduler.load_config(demo_model_dir, subfolder="scheduler")
    acp = DDIMScheduler.from_config(scheduler_config).alphas_cumprod
    g = torch.Generator().manual_seed(7)
    context = torch.randn((2, 77, 32), generator=g)  # (uncond, cond) stand-ins for encoded prompts
    init = torch.randn((1, *SHAPE), generator=g)  # an img2img init latent
    # One thread: the 8x8 UNet is too small to share out, and on a busy machine two threads wait
    # on each other (about 25x slower here).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield unet, scheduler_config, acp, context, init
    torch.set_num_threads(threads)


class Model:
    """The CFG-combined eps of the demo UNet, counting calls and remembering the timesteps seen."""

    def __init__(self, unet, context):
        self.unet, self.context, self.seen = unet, context, []

    def __call__(self, x, t):
        self.seen.append(float(t))
        with torch.no_grad():
            uncond, cond = self.unet(torch.cat([x, x]), torch.tensor([float(t)] * 2),
                                     encoder_hidden_states=self.context).sample.chunk(2)
        return uncond + CFG * (cond - uncond)


def noise():
    return ImageNoise(SHAPE, [SEED])


# --- the grids, by hand -----------------------------------------------------------------------

def test_ddim_grid_for_10_steps_is_every_hundredth_plus_one():
    assert ts.timesteps("DDIM", 10) == [1, 101, 201, 301, 401, 501, 601, 701, 801, 901]


def test_grid_with_a_stride_that_does_not_divide_1000_has_an_extra_point():
    # 1000 // 7 = 142: i = 0, 142, ..., 994 (8 values), each + 1
    assert ts.timesteps("PLMS", 7) == [1, 143, 285, 427, 569, 711, 853, 995]
    # 1000 // 30 = 33: 31 points, the last 990 + 1
    grid = ts.timesteps("UniPC", 30)
    assert len(grid) == 31 and grid[:3] == [1, 34, 67] and grid[-1] == 991


def test_discard_penultimate_builds_the_grid_for_one_step_more():
    # 1000 // 11 = 90: 0, 90, ..., 990 (12 values), each + 1; img2img's t_enc still counts 10 steps
    assert ts.timesteps("DDIM", 10, discard_penultimate=True) == [1 + 90 * i for i in range(12)]
    assert ts.img2img_timesteps("DDIM", 10, 0.75, discard_penultimate=True) == [1 + 90 * i for i in range(7)]
    assert ts.img2img_noise_timestep("DDIM", 10, 0.75, discard_penultimate=True) == 631


def test_img2img_keeps_the_lowest_t_enc_points_and_noises_one_point_higher():
    # t_enc = int(0.75 * 10) = 7; int(0.3 * 10) = 3
    assert ts.img2img_timesteps("DDIM", 10, 0.75) == [1, 101, 201, 301, 401, 501, 601]
    assert ts.img2img_noise_timestep("DDIM", 10, 0.75) == 701
    assert ts.img2img_timesteps("DDIM", 10, 0.3) == [1, 101, 201]
    assert ts.img2img_noise_timestep("DDIM", 10, 0.3) == 301
    # denoise 1 is capped at 0.999: int(9.99) = 9 points kept, noised to the top one
    assert ts.img2img_noise_timestep("DDIM", 10, 1.0) == 901
    assert ts.reported_steps(10, 0.75) == 8 and ts.reported_steps(10) == 10


def test_model_calls_by_hand():
    # DDIM: one per step down, none from the lowest point; PLMS: one more (its first step calls
    # twice); UniPC: one per grid point. A single-point grid leaves the noise as it is.
    assert [ts.model_calls(n, 10) for n in ts.NAMES] == [9, 10, 10]
    assert [ts.model_calls(n, 1) for n in ("DDIM", "PLMS")] == [0, 0]


def test_blend_known_keeps_the_init_latent_where_the_model_is_not_free():
    x, init = torch.full((1, 1, 1, 2), 5.0), torch.full((1, 1, 1, 2), -1.0)
    free = torch.tensor([[[[1.0, 0.25]]]])
    assert ts.blend_known(x, init, free).flatten().tolist() == [5.0, 0.5]  # 0.25 * 5 + 0.75 * -1


def test_bad_names_and_step_counts_are_bad_input():
    with pytest.raises(BadInput):
        ts.timesteps("Euler", 10)
    with pytest.raises(BadInput):
        ts.timesteps("DDIM", 0)
    with pytest.raises(BadInput):  # A1111 asserts steps >= order for UniPC
        ts.run("UniPC", lambda x, t: x, torch.zeros(1, *SHAPE), [1, 101], torch.linspace(0.99, 0.01, 1000),
               noise())


# --- references --------------------------------------------------------------------------------

def ddim_reference(config, model, x, top_index, src, eta=0.0):
    """diffusers' DDIM with clip_sample off on the leading grid 901 ... 1, from grid point
    `top_index` down to 101 (A1111 never steps from timestep 1)."""
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler.from_config(config, clip_sample=False, set_alpha_to_one=False,
                                          timestep_spacing="leading", steps_offset=1)
    scheduler.set_timesteps(10)
    ascending = scheduler.timesteps.flip(0).tolist()
    for t in reversed(ascending[1:top_index + 1]):
        eps = model(x, t)
        extra = {"variance_noise": src.next()} if eta > 0 else {}
        x = scheduler.step(eps, t, x, eta=eta, **extra).prev_sample
    return x


def plms_reference(acp, model, x, grid):
    """PLMS from the PNDM paper: the transfer phi (its eq. 11) with a pseudo improved Euler
    first step, then linear multistep eps of order 2, 3, 4."""
    a = acp.double()

    def phi(x, eps, t, t_next):
        at, an = a[t], a[t_next]
        coeff = (an - at) / (at.sqrt() * (((1 - an) * at).sqrt() + ((1 - at) * an).sqrt()))
        return float((an / at).sqrt()) * x - float(coeff) * eps

    down = list(reversed(grid))
    old = []
    for t, t_next in itertools.pairwise(down):
        e = model(x, t)
        if not old:
            e_prime = (e + model(phi(x, e, t, t_next), t_next)) / 2
        elif len(old) == 1:
            e_prime = (3 * e - old[-1]) / 2
        elif len(old) == 2:
            e_prime = (23 * e - 16 * old[-1] + 5 * old[-2]) / 12
        else:
            e_prime = (55 * e - 59 * old[-1] + 37 * old[-2] - 9 * old[-3]) / 24
        x = phi(x, e_prime, t, t_next)
        old.append(e)
    return x


def phi_closed(k, z):
    """phi_k(z) = (e^z - sum_{j<k} z^j / j!) / z^k (the UniPC/DPM-Solver phi functions)."""
    return (math.exp(z) - sum(z ** j / math.factorial(j) for j in range(k))) / z ** k


def unipc_reference(acp, model, x, top, steps, order=3, variant="bh1"):
    """UniPC (multistep, data prediction, B(h) = h or e^h - 1) on a grid uniform in the model's
    timestep from `top` to 0, log alpha linear between integer timesteps. A1111 uses 0.5 for the
    order-2 predictor's and order-1 corrector's coefficient, the corrector on all but the last
    step, order rising during warm-up and falling to the steps left at the end."""
    log_a = 0.5 * np.log(acp.double().numpy())

    def alpha(s):
        return math.exp(np.interp(s, np.arange(len(log_a)), log_a))

    def sigma(s):
        return math.sqrt(1 - alpha(s) ** 2)

    def lam(s):
        return math.log(alpha(s) / sigma(s))

    def x0(x, s):
        return (x - sigma(s) * model(x, s)) / alpha(s)

    grid = np.linspace(top, 0.0, steps + 1).tolist()
    hist = [(grid[0], x0(x, grid[0]))]
    for k in range(1, steps + 1):
        p = min(k, order, steps + 1 - k)
        s = grid[k]
        s0, m0 = hist[-1]
        h = lam(s) - lam(s0)
        z = -h
        bh = z if variant == "bh1" else math.expm1(z)
        older = hist[-p:-1][::-1]
        r = [(lam(si) - lam(s0)) / h for si, _ in older] + [1.0]
        d = [(mi - m0) / ri for (_, mi), ri in zip(older, r, strict=False)]
        R = np.array([[ri ** (i - 1) for ri in r] for i in range(1, p + 1)])
        b = np.array([z * phi_closed(i + 1, z) * math.factorial(i) / bh for i in range(1, p + 1)])
        base = (sigma(s) / sigma(s0)) * x - alpha(s) * math.expm1(z) * m0
        if p == 1:
            pred = base
        else:
            rho = [0.5] if p == 2 else np.linalg.solve(R[:-1, :-1], b[:-1])
            pred = base - alpha(s) * bh * sum(float(c) * di for c, di in zip(rho, d, strict=True))
        if k == steps:
            x = pred
            break
        m = x0(pred, s)
        rho_c = [0.5] if p == 1 else np.linalg.solve(R, b)
        corr = sum(float(c) * di for c, di in zip(rho_c[:-1], d, strict=True)) + float(rho_c[-1]) * (m - m0)
        x = base - alpha(s) * bh * corr
        hist = (hist + [(s, m)])[-order:]
    return x


# --- txt2img and img2img against the references -------------------------------------------------

DENOISE = [None, 0.3, 0.75]


def start(name, steps, denoise, acp, init):
    """(start latent, grid, noise source) as A1111 sets them up."""
    src = noise()
    first = src.first()
    if denoise is None:
        return first, ts.timesteps(name, steps), src
    t_noise = ts.img2img_noise_timestep(name, steps, denoise)
    return ts.noised_start(init, first, t_noise, acp), ts.img2img_timesteps(name, steps, denoise), src


@pytest.mark.parametrize("denoise", DENOISE)
def test_ddim_matches_diffusers_ddim_without_clipping(demo, denoise):
    unet, config, acp, context, init = demo
    x, grid, src = start("DDIM", 10, denoise, acp, init)
    model = Model(unet, context)
    got = ts.run("DDIM", model, x, grid, acp, src)
    assert model.seen == [float(t) for t in reversed(grid[1:])]  # 901 ... 101: no call at 1
    assert len(model.seen) == ts.model_calls("DDIM", len(grid)) == len(grid) - 1

    ref_src = noise()
    first = ref_src.first()
    if denoise is None:
        x_ref = first
    else:
        from diffusers import DDIMScheduler

        t_noise = torch.tensor([ts.img2img_noise_timestep("DDIM", 10, denoise)])
        x_ref = DDIMScheduler.from_config(config).add_noise(init, first, t_noise)
    expected = ddim_reference(config, Model(unet, context), x_ref, len(grid) - 1, ref_src)
    assert got.abs().max() > 1.0  # not a degenerate run
    assert (got - expected).abs().max() < TOL


def test_ddim_with_eta_draws_one_noise_per_step(demo):
    unet, config, acp, context, _ = demo
    src = noise()
    x = src.first()
    got = ts.run("DDIM", Model(unet, context), x, ts.timesteps("DDIM", 10), acp, src, eta=0.7)
    ref_src = noise()
    expected = ddim_reference(config, Model(unet, context), ref_src.first(), 9, ref_src, eta=0.7)
    assert (got - expected).abs().max() < TOL
    deterministic = ts.run("DDIM", Model(unet, context), noise().first(), ts.timesteps("DDIM", 10), acp,
                           noise())
    assert (got - deterministic).abs().max() > 0.01  # eta's noise did reach the result


@pytest.mark.parametrize("denoise", DENOISE)
def test_plms_matches_the_pndm_paper(demo, denoise):
    unet, _, acp, context, init = demo
    x, grid, src = start("PLMS", 10, denoise, acp, init)
    model = Model(unet, context)
    got = ts.run("PLMS", model, x, grid, acp, src)
    # the first step calls the model at its top point and at the next lower one
    assert model.seen[:3] == [grid[-1], grid[-2], grid[-2]]
    assert len(model.seen) == ts.model_calls("PLMS", len(grid)) == len(grid)
    expected = plms_reference(acp, Model(unet, context), x, grid)
    assert got.abs().max() > 1.0
    assert (got - expected).abs().max() < TOL


@pytest.mark.parametrize("denoise", DENOISE)
def test_unipc_matches_the_unipc_paper_with_a1111_settings(demo, denoise):
    unet, _, acp, context, init = demo
    x, grid, src = start("UniPC", 10, denoise, acp, init)
    model = Model(unet, context)
    got = ts.run("UniPC", model, x, grid, acp, src, img2img=denoise is not None)
    top = 999.0 if denoise is None else float(grid[-1])  # A1111 img2img: the top kept point
    assert len(model.seen) == ts.model_calls("UniPC", len(grid)) == len(grid)
    assert model.seen[0] == pytest.approx(top)
    expected = unipc_reference(acp, Model(unet, context), x, top, len(grid))
    assert got.abs().max() > 1.0
    assert (got - expected).abs().max() < TOL


def test_unipc_model_times_are_fractional_and_bh2_differs(demo):
    unet, _, acp, context, _ = demo
    grid = ts.timesteps("UniPC", 10)
    model = Model(unet, context)
    bh1 = ts.run("UniPC", model, noise().first(), grid, acp, noise())
    # linspace(1, 0.001, 11) in model time: 999, 899.1, 799.2, ... (the corrector's reuse of the
    # prediction means one call per grid time, the last time never called)
    assert model.seen == pytest.approx([999 - 99.9 * k for k in range(10)])
    bh2 = ts.run("UniPC", Model(unet, context), noise().first(), grid, acp, noise(),
                 unipc=ts.UniPCOptions(variant="bh2"))
    expected = unipc_reference(acp, Model(unet, context), noise().first(), 999.0, 10, variant="bh2")
    assert (bh2 - expected).abs().max() < TOL
    assert (bh2 - bh1).abs().max() > 1e-3


def test_noised_start_is_the_variance_preserving_mix(demo):
    _, _, acp, _, init = demo
    n = noise().first()
    a = float(acp[701])
    expected = math.sqrt(a) * init + math.sqrt(1 - a) * n
    assert (ts.noised_start(init, n, 701, acp) - expected).abs().max() < 1e-6
