"""k-diffusion (MIT, crowsonkb/k-diffusion 0.1.1.post1), the reference the sampler parity tests
compare atlas with, loaded without its package __init__.

Why not `import k_diffusion`: the package's __init__ imports every submodule, training ones
included (augmentation, evaluation, gns, models), which need scikit-image, clean-fid, CLIP, wandb
and more that atlas neither needs nor installs (`.ci/run` installs k-diffusion with --no-deps).
The two modules the tests use, `k_diffusion.sampling` and `k_diffusion.external`, need only torch,
scipy, torchsde, torchdiffeq, tqdm and `k_diffusion.utils` (torch, PIL, safetensors, torchvision).
So the package is registered as an empty module whose __path__ points at the installed folder,
and only those submodules are imported from it.
"""

import importlib
import importlib.util
import sys
import types
from pathlib import Path


def _package() -> types.ModuleType:
    loaded = sys.modules.get("k_diffusion")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("k_diffusion")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("k-diffusion is not installed (pip install --no-deps k-diffusion==0.1.1.post1)")
    package = types.ModuleType("k_diffusion")
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = str(Path(package.__path__[0]) / "__init__.py")
    sys.modules["k_diffusion"] = package  # its __init__ never runs
    return package


def load() -> tuple[types.ModuleType, types.ModuleType]:
    """(k_diffusion.sampling, k_diffusion.external)."""
    _package()
    return importlib.import_module("k_diffusion.sampling"), importlib.import_module("k_diffusion.external")
