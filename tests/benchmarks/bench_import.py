"""Benchmark: `atlas import` of many small PNGs with A1111 metadata against `exiftool -j` reading them.

    python tests/benchmarks/bench_import.py [--files 20000] [--workers N] [--mode copy|link]

Both sides read the same files: exiftool extracts every tag as JSON (its usual "dump the
metadata" use), atlas reads, hashes, parses and catalogues them (copying them into the store
with --mode copy). Prints files per second for each and the ratio (target: >= 1,000 files/s).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image, PngImagePlugin

from atlas.core.catalogue import Catalogue
from atlas.core.importers.batch import import_paths

SAMPLERS = ("Euler a", "Euler", "DPM++ 2M Karras", "DDIM", "UniPC")


def make_files(root: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    base = Image.effect_noise((32, 32), 40).convert("RGB")
    for i in range(count):
        text = (f"a {rng.choice(('red', 'blue', 'misty'))} fox number {i}, highly detailed\n"
                f"Negative prompt: blurry, lowres\nSteps: {rng.randint(10, 60)}, Sampler: {rng.choice(SAMPLERS)}, "
                f"CFG scale: {rng.randint(2, 14) / 2}, Seed: {rng.getrandbits(32)}, Size: 512x512, "
                f"Model hash: fe4efff1e1, Model: sd-v1-4, Version: v1.10.1")
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", text)
        img = base.copy()
        img.putpixel((i % 32, (i // 32) % 32), (i % 256, (i >> 8) % 256, (i >> 16) % 256))  # unique bytes
        sub = root / f"{i // 1000:03}"
        sub.mkdir(exist_ok=True)
        img.save(sub / f"{i:06}.png", pnginfo=info, compress_level=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--mode", choices=("copy", "link"), default="copy")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="atlas-bench-import-"))
    try:
        src = work / "renders"
        t0 = time.perf_counter()
        make_files(src, args.files)
        print(f"made {args.files:,} PNGs in {time.perf_counter() - t0:.0f} s", flush=True)

        exiftool = shutil.which("exiftool")
        t_exif = None
        if exiftool:
            t0 = time.perf_counter()
            out = subprocess.run([exiftool, "-j", "-r", "-q", str(src)], capture_output=True, check=False)
            t_exif = time.perf_counter() - t0
            assert out.stdout.count(b'"SourceFile"') == args.files, "exiftool did not read every file"
            print(f"exiftool -j -r: {t_exif:.1f} s, {args.files / t_exif:,.0f} files/s", flush=True)

        catalogue = Catalogue.open(work / "home")
        t0 = time.perf_counter()
        report = import_paths(catalogue, [src], recursive=True, mode=args.mode, workers=args.workers)
        t_atlas = time.perf_counter() - t0
        catalogue.close()
        assert len(report.imported) == args.files, report.to_dict()["counts"]
        print(f"atlas import ({args.mode}, {args.workers or os.cpu_count()} workers): {t_atlas:.1f} s, "
              f"{args.files / t_atlas:,.0f} files/s (target >= 1,000)")
        if t_exif:
            print(f"ratio atlas/exiftool files per second: {t_exif / t_atlas:.2f}")

        catalogue = Catalogue.open(work / "home")
        t0 = time.perf_counter()
        again = import_paths(catalogue, [src], recursive=True, mode=args.mode, workers=args.workers)
        t_again = time.perf_counter() - t0
        catalogue.close()
        print(f"re-import of the unchanged tree: {t_again:.1f} s, {args.files / t_again:,.0f} files/s "
              f"({len(again.skipped):,} skipped)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
