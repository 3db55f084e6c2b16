"""SD upscale's tile grid and its linear-ramp blending (numpy only).

Tiles are spread evenly over each axis with at least the requested overlap; the first sits at 0 and
the last is clamped to the far edge. Blending ramps linearly across each actual overlap: the tiles
of a row first, then the rows together, so only one row of tiles is held at a time.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    index: int
    row: int
    column: int
    x: int
    y: int
    width: int
    height: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.width, self.y + self.height


def positions(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets along one axis: evenly spread, first at 0, last flush with the end."""
    if tile >= length:
        return [0]
    stride = tile - overlap
    if stride <= 0:
        raise ValueError(f"tile overlap {overlap} must be smaller than the tile size {tile}")
    count = -(-(length - overlap) // stride)  # ceil: enough tiles that neighbours overlap >= overlap
    count = max(count, 2)
    gap = (length - tile) / (count - 1)
    return [round(i * gap) for i in range(count)]


def grid(width: int, height: int, tile: int, overlap: int) -> list[list[Tile]]:
    """Rows of tiles covering a width x height image exactly."""
    tile_w, tile_h = min(tile, width), min(tile, height)
    xs, ys = positions(width, tile_w, overlap), positions(height, tile_h, overlap)
    rows, index = [], 0
    for r, y in enumerate(ys):
        row = []
        for c, x in enumerate(xs):
            row.append(Tile(index, r, c, x, y, tile_w, tile_h))
            index += 1
        rows.append(row)
    return rows


def ramp(length: int) -> np.ndarray:
    """Weights of the incoming piece across an overlap of `length` pixels, rising from ~0 to ~1."""
    return (np.arange(length, dtype=np.float32) + 0.5) / length


def blend_row(tiles: list[Tile], pixels: list[np.ndarray], width: int) -> np.ndarray:
    """One row strip (tile height x image width x 3, float32) from its tiles, left to right."""
    height = tiles[0].height
    strip = np.zeros((height, width, pixels[0].shape[2]), dtype=np.float32)
    end = 0
    for tile, tile_pixels in zip(tiles, pixels, strict=False):
        tile_pixels = tile_pixels.astype(np.float32)
        shared = max(0, end - tile.x)
        if shared:
            weight = ramp(shared)[None, :, None]
            region = strip[:, tile.x:end]
            strip[:, tile.x:end] = region * (1 - weight) + tile_pixels[:, :shared] * weight
        strip[:, tile.x + shared:tile.x + tile.width] = tile_pixels[:, shared:]
        end = tile.x + tile.width
    return strip


def blend_into(canvas: np.ndarray, strip: np.ndarray, y: int, filled_to: int) -> int:
    """Blend a row strip into `canvas` at row `y` over the rows already filled; returns the new fill."""
    shared = max(0, filled_to - y)
    if shared:
        weight = ramp(shared)[:, None, None]
        canvas[y:filled_to] = canvas[y:filled_to] * (1 - weight) + strip[:shared] * weight
    canvas[y + shared:y + strip.shape[0]] = strip[shared:]
    return y + strip.shape[0]
