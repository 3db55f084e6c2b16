"""Model sources: a local path as it is, or a Hugging Face hub id downloaded when online."""

import re
import shutil
import tempfile
from pathlib import Path

from atlas.core.errors import BadInput

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def local_or_download(source: str, target: Path) -> Path:
    path = Path(source).expanduser()
    if path.exists():
        return path
    if not HUB_ID.match(source):
        raise BadInput(f"{source}: no such file or folder, and not a hub id (owner/name)")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - diffusers depends on huggingface_hub
        raise BadInput("downloading from the hub needs huggingface_hub") from None
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".download-"))
    try:
        snapshot_download(source, local_dir=tmp, allow_patterns=["*.json", "*.txt", "*.md", "*.safetensors"],
                          ignore_patterns=["*.fp16.*", "*ema*"])
        tmp.rename(target)
    except Exception as exc:
        raise BadInput(f"{source}: could not download from the hub ({type(exc).__name__}); "
                       "atlas works offline: download the model yourself and add its folder") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
