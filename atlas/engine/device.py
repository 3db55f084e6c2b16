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
