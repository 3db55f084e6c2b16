"""A1111's k-diffusion samplers, run the way A1111 (>= 1.9) runs them.

discrete: the model's 1000 noise levels and the sigma <-> fractional timestep map;
schedules: A1111's schedule types; denoiser: eps/v UNet -> guided clean estimate (CFG, inpainting
hold); solvers, sde, restart: the samplers' algorithms; brownian: the SDE samplers' seeded noise;
drive: A1111's txt2img/img2img start, sigmas and step count.
"""
