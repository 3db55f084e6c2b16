"""The txt2img pass: prompt to image with a seeded generator, step by step."""

from collections.abc import Callable
from dataclasses import dataclass

import torch

from atlas.engine import schedulers

Progress = Callable[[int, int], None]  # (step done, steps total)


@dataclass
class Result:
    image: object  # PIL.Image
    steps_run: int


def generator(seed: int) -> torch.Generator:
    # Noise is drawn on the CPU so a seed gives the same picture on every device.
    return torch.Generator("cpu").manual_seed(seed)


def step_counter(total: int, progress: Progress | None):
    """A callback_on_step_end that counts the steps actually run and reports them."""
    done = [0]

    def on_step_end(_pipe, _step, _timestep, kwargs):
        done[0] += 1
        if progress is not None:
            progress(done[0], total)
        return kwargs

    return on_step_end, done


def run(pipe, prompt: str, negative_prompt: str, steps: int, sampler: str, cfg: float,
        width: int, height: int, seed: int, progress: Progress | None = None) -> Result:
    pipe.scheduler = schedulers.make(pipe.scheduler.config, sampler)
    on_step_end, done = step_counter(steps, progress)
    output = pipe(prompt=prompt, negative_prompt=negative_prompt or None, num_inference_steps=steps,
                  guidance_scale=cfg, width=width, height=height, generator=generator(seed),
                  callback_on_step_end=on_step_end)
    return Result(image=output.images[0], steps_run=done[0])
