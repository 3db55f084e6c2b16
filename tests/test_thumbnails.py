"""The thumbnail cache: real JPEG and PNG files, made once, found by content, bounded in size."""

import os
import threading
import time

import pytest
from PIL import Image

from atlas.core.thumbnails import ThumbnailCache, ThumbnailError, make_thumbnail


def noisy(path, size=(1200, 800), fmt="JPEG", mode="RGB", seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    channels = 4 if mode == "RGBA" else 3
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], channels), dtype=np.uint8), mode).save(path, fmt)
    return path


@pytest.fixture
def cache(tmp_path):
    return ThumbnailCache(tmp_path / "thumbs")


def test_a_jpeg_thumbnail_fits_the_edge_and_keeps_the_aspect(cache, tmp_path):
    source = noisy(tmp_path / "a.jpg")
    thumb = cache.get(source, 256)
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and image.size == (256, 171)  # 1200x800 -> 256 x 170.67
    assert thumb.parent.parent == cache.root and thumb.name.startswith(thumb.parent.name)


def test_a_png_with_transparency_stays_a_png(cache, tmp_path):
    source = noisy(tmp_path / "a.png", (600, 900), "PNG", "RGBA")
    with Image.open(cache.get(source, 128)) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and image.size == (85, 128)


def test_a_small_picture_is_not_enlarged(tmp_path):
    data, ext = make_thumbnail(noisy(tmp_path / "s.png", (40, 30), "PNG"), 256)
    assert ext == "jpg"
    with Image.open(__import__("io").BytesIO(data)) as image:
        assert image.size == (40, 30)


def test_a_second_get_is_a_hit_and_an_edit_makes_a_new_one(cache, tmp_path):
    source = noisy(tmp_path / "a.jpg")
    first = cache.get(source)
    made = first.stat().st_mtime_ns
    assert cache.get(source) == first
    noisy(source, seed=1)  # the file changes under the same name
    second = cache.get(source)
    assert second != first
    with Image.open(second) as new, Image.open(first) as old:
        assert new.tobytes() != old.tobytes()
    # the same content elsewhere is the same thumbnail
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(source.read_bytes())
    assert cache.get(copy) == second
    assert first.stat().st_mtime_ns >= made


def test_the_cache_is_bounded_least_recently_used_first(cache, tmp_path):
    sources = [noisy(tmp_path / f"{i}.jpg", (300, 300), seed=i) for i in range(4)]
    made = [cache.get(s, 64) for s in sources]
    now = time.time()
    for i, path in enumerate(made):  # used in order 0, 1, 2, 3, long ago
        os.utime(path, (now - 40 + 10 * i, now - 40 + 10 * i))
    assert cache.get(sources[0], 64) == made[0]  # a hit: 0 is now the most recently used
    removed = cache.prune(target_bytes=sum(p.stat().st_size for p in made) - 1)
    assert removed == 1
    assert [p.exists() for p in made] == [True, False, True, True]


def test_writing_past_the_bound_prunes(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10)
    for i in range(3):
        cache.get(noisy(tmp_path / f"{i}.jpg", (200, 200), seed=i), 64)
    assert len(list(cache.root.rglob("*.jpg"))) <= 1


def test_not_a_picture_is_a_clear_error(cache, tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ThumbnailError, match="x.png"):
        cache.get(bad)
    with pytest.raises(FileNotFoundError):
        cache.get(tmp_path / "gone.png")


def test_threads_share_one_cache(cache, tmp_path):
    sources = [noisy(tmp_path / f"{i}.jpg", (400, 300), seed=i) for i in range(6)]
    results, errors = {}, []

    def work(s):
        try:
            results[s] = cache.get(s, 96)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in sources * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results.values())) == 6
    assert sorted(p.name for p in cache.root.rglob("*.jpg")) == sorted(p.name for p in results.values())
