"""Where the engine runs: CUDA in fp16 when present, else the CPU in fp32."""

import platform
from dataclasses import dataclass
from functools import cache

import torch


@dataclass(frozen=True)
class Device:
    torch_device: str
    dtype: torch.dtype
    description: str


@cache
def pick() -> Device:
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return Device("cuda", torch.float16, f"cuda: {name}")
    return Device("cpu", torch.float32,
                  f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")


def software() -> dict[str, str]:
    import diffusers
    import transformers

    import atlas

    return {"atlas": atlas.__version__, "torch": torch.__version__, "diffusers": diffusers.__version__,
            "transformers": transformers.__version__, "python": platform.python_version()}


# The VAE decodes the whole image at once: at full resolution its last block holds a few tensors of
# block_out_channels[0] channels per pixel (128 for SD 1.x). That, not the UNet, is what a huge size
# runs out of, so it is what is checked before a pass starts (torch would fail deep inside, or swap).
DECODE_TENSORS = 4


def decode_bytes(pipe, width: int, height: int) -> int:
    """About how many bytes decoding a width x height image takes at its peak."""
    channels = pipe.vae.config.block_out_channels[0]
    return width * height * channels * DECODE_TENSORS * torch.finfo(pipe.vae.dtype).bits // 8


def free_memory() -> int | None:
    """Bytes free for the engine now: on the GPU when it runs there, else the system's available memory."""
    if pick().torch_device == "cuda":
        return torch.cuda.mem_get_info()[0]
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None  # not Linux: no check, torch's own error if it runs out


def check_memory(pipe, width: int, height: int) -> None:
    """Refuse a size this machine cannot decode, saying how much it needs, before any sampling."""
    from atlas.core.errors import AtlasError

    need, free = decode_bytes(pipe, width, height), free_memory()
    if free is not None and need > free:
        gib = 1 << 30
        raise AtlasError(f"a {width}x{height} image needs about {need / gib:.1f} GiB to decode, and "
                         f"{free / gib:.1f} GiB is free on {pick().description}; make it smaller, or upscale "
                         "a smaller render in tiles (atlas upscale)")
