"""Where a pass's input comes from: a render id, or an image file imported first.

Importing belongs to `atlas.core.importing` (issue 6); when that module is present it is used.
Until then a minimal import records an `import` pass (the file's path, sha256 and text chunks) and
stores the image as PNG through the ordinary write path, so the lineage starts at the file.
"""

import io
from pathlib import Path

from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput, NotFound
from atlas.core.renders import RenderInfo, begin_pass, fail_pass, finish_pass
from atlas.core.store import sha256_file
from atlas.core.tables import Pass, Render


def resolve(catalogue: Catalogue, source: str | int) -> int:
    """The render id for SRC: an existing render id, else a file path (imported)."""
    text = str(source)
    path = Path(text).expanduser()
    if text.isdigit() and not path.exists():
        with catalogue.session() as session:
            if session.get(Render, int(text)) is None:
                raise NotFound(f"no render with id {text} (and no file of that name)")
        return int(text)
    if not path.is_file():
        raise BadInput(f"{text}: neither a render id nor an image file")
    try:
        from atlas.core.importing import import_file  # issue 6's importer, once merged
    except ImportError:
        import_file = minimal_import
    return import_file(catalogue, path).id


def minimal_import(catalogue: Catalogue, path: Path, mode: str = "copy") -> Render:
    from PIL import Image, UnidentifiedImageError

    from atlas.core.metadata import png

    data = path.read_bytes()  # the source is only read, never modified
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height, fmt = image.width, image.height, (image.format or "").lower()
            if fmt != "png":
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, format="PNG")
                png_data = buffer.getvalue()
            else:
                png_data = data
    except (UnidentifiedImageError, OSError) as exc:
        raise BadInput(f"{path}: not a readable image ({type(exc).__name__})") from None
    raw = png.texts(png.read_chunks(data, str(path)), str(path)) if fmt == "png" else {}
    prompt, negative = prompts_of(raw)
    step = Pass(kind="import", width=width, height=height, prompt=prompt, negative_prompt=negative,
                settings={"source": str(path.resolve()), "source_sha256": sha256_file(path),
                          "source_format": fmt},
                raw_metadata=raw)
    pass_id = begin_pass(catalogue, step)
    try:
        return finish_pass(catalogue, pass_id, png_data, width, height, RenderInfo())
    except BaseException as exc:
        fail_pass(catalogue, pass_id, "failed", f"{type(exc).__name__}: {exc}")
        raise


def prompts_of(raw: dict) -> tuple[str, str]:
    """The prompt and negative prompt of an A1111 `parameters` text, when a parser is available."""
    text = raw.get("parameters")
    if not text:
        return "", ""
    try:
        from atlas.core.metadata.infotext import parse  # issue 3's parser, once merged
    except ImportError:
        return "", ""
    prompt, negative, _params = parse(text)
    return prompt, negative
