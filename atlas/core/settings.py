"""Checks on generation settings, run before any model loads so bad input costs nothing."""

import re

from atlas.core.errors import BadInput

CFG_RANGE = (1.0, 30.0)  # A1111's slider range
MAX_SIDE = 16384
MAX_INT = 2**63 - 1  # the largest integer (and id) SQLite and PostgreSQL's bigint store


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not match:
        raise BadInput(f"size must look like WIDTHxHEIGHT (e.g. 768x512), got {text!r}")
    return check_size(int(match.group(1)), int(match.group(2)))


def check_size(width: int, height: int) -> tuple[int, int]:
    for name, value in (("width", width), ("height", height)):
        if value < 64 or value > MAX_SIDE:
            raise BadInput(f"{name} must be between 64 and {MAX_SIDE}, got {value}")
        if value % 8:
            raise BadInput(f"{name} must be a multiple of 8 (the VAE works in 8x8 blocks), got {value}")
    return width, height


def check_steps(steps: int) -> int:
    if steps < 1 or steps > 1000:
        raise BadInput(f"steps must be between 1 and 1000, got {steps}")
    return steps


def check_cfg(cfg: float) -> float:
    low, high = CFG_RANGE
    if not low <= cfg <= high:
        raise BadInput(f"CFG scale must be between {low:g} and {high:g}, got {cfg:g}")
    return cfg


def check_denoise(denoise: float) -> float:
    if not 0.0 <= denoise <= 1.0:
        raise BadInput(f"denoising strength must be between 0 and 1, got {denoise:g}")
    return denoise


def check_seed(seed: int) -> int:
    if seed < -1 or seed >= 2**32:
        raise BadInput(f"seed must be -1 (random) or between 0 and {2**32 - 1}, got {seed}")
    return seed


def a1111_img2img_steps(steps: int, denoise: float) -> int:
    """The steps A1111 actually runs for img2img: int(min(strength, 0.999) * steps) + 1."""
    return int(min(denoise, 0.999) * steps) + 1


def resolve_seed(seed: int) -> int:
    """-1 means random: the seed is drawn here, before sampling, so it can be recorded."""
    import secrets

    return secrets.randbelow(2**32) if seed == -1 else seed
