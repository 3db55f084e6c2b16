"""Benchmark: adding atlas's full metadata to a big PNG by chunk rewrite, against a Pillow re-save.

One run, one file (default 8192x4096 RGB, a smooth gradient with noise, encoded by Pillow like a
render), three ways of producing the output file, page cache warm for all:
  copy     a plain file copy (shutil.copyfile): the floor
  rewrite  atlas.core.files.embed.embed_file: parameters + provenance record + XMP, IDAT copied
  pillow   Image.open + save(pnginfo=...) with the same texts: decode and re-encode
Prints medians and the ratios (targets: pillow/rewrite >= 50, rewrite/copy <= 2).

    python tests/benchmarks/bench_metadata.py [--size 8192x4096] [--repeats 5]
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def make_png(path: Path, width: int, height: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    base = (x * 0.6 + y * 0.4) * np.array([1.0, 0.7, 0.4], dtype=np.float32)
    noise = rng.integers(0, 24, size=(height, width, 3), dtype=np.uint8)
    pixels = np.clip(base, 0, 231).astype(np.uint8) + noise
    Image.fromarray(pixels, "RGB").save(path, "PNG", compress_level=6)


def record(width: int, height: int) -> dict:
    from atlas.core.record.build import validate

    licence = {"id": "CC-BY-SA-4.0", "name": "Creative Commons Attribution-ShareAlike 4.0 International",
               "url": "https://creativecommons.org/licenses/by-sa/4.0/", "spdx": "CC-BY-SA-4.0",
               "commons_template": "Cc-by-sa-4.0"}
    model = {"name": "sd-v1-4", "kind": "checkpoint",
             "sha256": "fe4efff1e174c627256e44ec2991ba279b3816e364b49f9be2abc0b3ff3f8556",
             "short_hash": "fe4efff1e1", "demo": False,
             "licence": {"id": "creativeml-openrail-m", "name": "CreativeML OpenRAIL-M",
                         "url": "https://huggingface.co/spaces/CompVis/stable-diffusion-license",
                         "spdx": "LicenseRef-creativeml-openrail-m", "commons_template": None}}
    step = {"kind": "txt2img", "status": "completed", "prompt": "a futuristic city, 未来都市 🌃",
            "negative_prompt": "blurry", "seed": 42, "sampler": "Euler a", "steps": 50, "cfg": 7.0,
            "width": 768, "height": 512, "settings": {}, "model": model, "software": {"atlas": "0.1.0"},
            "started": "2026-01-01T00:00:00.000Z", "ended": "2026-01-01T00:01:00.000Z",
            "output": {"width": width, "height": height}}
    outpaint = [{**step, "kind": "outpaint", "settings": {"side": side, "pixels": 128}, "denoise": 0.8}
                for side in ("left", "right", "top", "bottom") * 4]
    found = {"atlas_record": 1, "lineage": [step, *outpaint], "run": None,
             "render": {"id": 1, "title": "City", "author": "Ann", "created": "2026-01-01T00:01:00.000Z",
                        "width": width, "height": height, "format": "png", "tool": "atlas", "licence": licence}}
    validate(found)
    return found


def median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="8192x4096")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))

    from PIL import Image, PngImagePlugin

    from atlas.core.files import embed, png

    work = Path(tempfile.mkdtemp(prefix="atlas-bench-meta-"))
    src = work / "src.png"
    print(f"building a {width}x{height} PNG ...", flush=True)
    make_png(src, width, height)
    rec = record(width, height)
    chunks = embed.metadata_chunks(rec)
    texts = [png.decode_text(c) for c in chunks]
    print(f"file: {src.stat().st_size / 1e6:.1f} MB, metadata: {sum(len(c.data) for c in chunks) / 1e3:.1f} kB")

    def copy():
        shutil.copyfile(src, work / "copy.png")

    def rewrite():
        embed.embed_file(src, work / "rewrite.png", rec)

    def pillow():
        info = PngImagePlugin.PngInfo()
        for key, text in texts:
            info.add_itxt(key, text)
        with Image.open(src) as image:
            image.save(work / "pillow.png", pnginfo=info, compress_level=6)

    copy(), rewrite()  # warm the page cache and imports
    t_copy = median_time(copy, args.repeats)
    t_rewrite = median_time(rewrite, args.repeats)
    t_pillow = median_time(pillow, max(1, args.repeats // 2))
    assert png.read_file_chunks(work / "rewrite.png")[1].keyword == b"parameters"
    print(f"copy     {t_copy * 1e3:9.1f} ms")
    print(f"rewrite  {t_rewrite * 1e3:9.1f} ms")
    print(f"pillow   {t_pillow * 1e3:9.1f} ms")
    print(f"pillow / rewrite = {t_pillow / t_rewrite:.0f}x  (target >= 50x)")
    print(f"rewrite / copy   = {t_rewrite / t_copy:.2f}x  (target <= 2x)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
