"""SD upscale's tile grid, tile seeds and tile blending, as A1111 computes them (numpy only, pure).

A1111 (split_grid/combine_grid in modules/images.py, scripts/sd_upscale.py):

- Along each axis, n = ceil((length - overlap) / (tile - overlap)) tiles. Tile i starts at
  int(i * (length - tile) / (n - 1)), truncated in floating point, and a start whose tile would reach
  the far edge (start + tile >= length) is moved to length - tile.
- Quirk we follow: the truncation can leave the last tile one pixel short of the far edge (e.g. 616 px,
  tile 128, overlap 48: 7 * (488 / 7) is 487.99999...), and that last column stays black.
- Quirk we follow: a side shorter than the tile gets one tile at length - tile, a negative offset: the
  tile is cut from beyond the image's edge (black there) and only its part inside the image is kept;
  being at a non-zero offset, its first `overlap` pixels are blended over black, so where they reach
  into the image (overlap > tile - length) the image's first pixels come out darkened.
- Combining: within a row, a tile at x == 0 is pasted; any other tile has its first `overlap` columns
  blended over what is already there with 8-bit weights int(i * 255 / overlap) and the rest of it pasted
  over (an actual overlap wider than the nominal one is overwritten, not blended). The rows go onto the
  image the same way along y. Blending is PIL's paste with an "L" mask, reproduced exactly.

The image is assembled a row at a time (`Assembler`), so only one row of tiles is held.
"""

import math
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
        """(left, top, right, bottom); left/top are negative for an image smaller than the tile."""
        return self.x, self.y, self.x + self.width, self.y + self.height


@dataclass(frozen=True)
class Grid:
    width: int
    height: int
    tile_width: int
    tile_height: int
    overlap: int
    rows: tuple[tuple[Tile, ...], ...]

    @property
    def tiles(self) -> list[Tile]:
        return [t for row in self.rows for t in row]


def starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile offsets along one axis of `length` pixels, as A1111's split_grid places them."""
    if not 0 <= overlap < tile:
        raise ValueError(f"tile overlap {overlap} must be at least 0 and below the tile size {tile}")
    count = math.ceil((length - overlap) / (tile - overlap))
    if count < 1:  # A1111 makes no tile at all here (a black image); refuse instead
        raise ValueError(f"a side of {length} px must be longer than the tile overlap {overlap}")
    step = (length - tile) / (count - 1) if count > 1 else 0
    offsets = []
    for i in range(count):
        start = int(i * step)  # truncated, not rounded (A1111)
        if start + tile >= length:
            start = length - tile
        offsets.append(start)
    return offsets


def grid(width: int, height: int, tile_width: int, tile_height: int, overlap: int) -> Grid:
    """The tiles covering a width x height image, in rows, numbered row by row (A1111's work order)."""
    xs = starts(width, tile_width, overlap)
    ys = starts(height, tile_height, overlap)
    rows = tuple(tuple(Tile(r * len(xs) + c, r, c, x, y, tile_width, tile_height) for c, x in enumerate(xs))
                 for r, y in enumerate(ys))
    return Grid(width, height, tile_width, tile_height, overlap, rows)


def scaled(g: Grid, factor: int) -> Grid:
    """The grid with every length times `factor` (A1111 combines an upscaler model's tiles this way)."""
    rows = tuple(tuple(Tile(t.index, t.row, t.column, t.x * factor, t.y * factor, t.width * factor,
                            t.height * factor) for t in row) for row in g.rows)
    return Grid(g.width * factor, g.height * factor, g.tile_width * factor, g.tile_height * factor,
                g.overlap * factor, rows)


def seeds(seed: int, count: int, batch: int) -> list[int]:
    """Each tile's seed. A1111 runs the tiles in batches of `batch`; batch b starts at seed + b (the
    previous batch's first seed + 1) and its items take consecutive seeds, so with batch > 1 seeds
    repeat across batches (quirk we follow): tile k = b * batch + j gets seed + b + j."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    return [seed + k // batch + k % batch for k in range(count)]


def ramp(overlap: int) -> np.ndarray:
    """A1111's 8-bit blending weights of the incoming tile across the overlap: int(i * 255 / overlap)
    computed in float32, rising from 0 and never reaching 255."""
    if overlap == 0:
        return np.zeros(0, dtype=np.uint8)
    return (np.arange(overlap, dtype=np.float32) * np.float32(255) / np.float32(overlap)).astype(np.uint8)


def blend(under: np.ndarray, over: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """PIL's paste with an "L" mask: (under * (255 - w) + over * w) / 255, rounded as PIL divides."""
    w = weight.astype(np.uint32)
    total = under.astype(np.uint32) * (255 - w) + over.astype(np.uint32) * w + 128
    return (((total >> 8) + total) >> 8).astype(np.uint8)


def _along(array: np.ndarray, axis: int, start: int, stop: int) -> tuple:
    index: list[slice] = [slice(None)] * array.ndim
    index[axis] = slice(start, stop)
    return tuple(index)


def put(target: np.ndarray, piece: np.ndarray, offset: int, axis: int, weight: np.ndarray | None = None) -> None:
    """Paste `piece` into `target` at `offset` along `axis` (clipped at both ends, as PIL clips),
    blended with `weight` (same length along `axis` as `piece`) when given."""
    length = piece.shape[axis]
    lo, hi = max(offset, 0), min(offset + length, target.shape[axis])
    if lo >= hi:
        return
    region = _along(target, axis, lo, hi)
    part = piece[_along(piece, axis, lo - offset, hi - offset)]
    if weight is None:
        target[region] = part
    else:
        target[region] = blend(target[region], part, weight[_along(weight, axis, lo - offset, hi - offset)])


def combine_row(g: Grid, row: tuple[Tile, ...], pixels: list[np.ndarray]) -> np.ndarray:
    """One row strip (tile height x image width x 3, uint8) from its tiles' pixels, left to right."""
    strip = np.zeros((g.tile_height, g.width, 3), dtype=np.uint8)
    weight = ramp(g.overlap)[None, :, None]
    for tile, tile_pixels in zip(row, pixels, strict=True):
        if tile_pixels.shape != (g.tile_height, g.tile_width, 3):
            raise ValueError(f"tile {tile.index} has shape {tile_pixels.shape}, "
                             f"expected {(g.tile_height, g.tile_width, 3)}")
        if tile.x == 0:
            put(strip, tile_pixels, 0, axis=1)
            continue
        put(strip, tile_pixels[:, :g.overlap], tile.x, axis=1, weight=weight)
        put(strip, tile_pixels[:, g.overlap:], tile.x + g.overlap, axis=1)
    return strip


def add_row(g: Grid, canvas: np.ndarray, y: int, strip: np.ndarray) -> None:
    """Put a row strip onto the image at `y`: pasted at the top, else blended over the first `overlap` rows."""
    if y == 0:
        put(canvas, strip, 0, axis=0)
        return
    put(canvas, strip[:g.overlap], y, axis=0, weight=ramp(g.overlap)[:, None, None])
    put(canvas, strip[g.overlap:], y + g.overlap, axis=0)


class Assembler:
    """Builds the image from tiles arriving in grid order; a row is combined and its tiles dropped as
    soon as it is complete, so at most one row of tiles (plus a batch) is held."""

    def __init__(self, g: Grid):
        self.grid = g
        self.canvas = np.zeros((g.height, g.width, 3), dtype=np.uint8)
        self.pending: dict[int, np.ndarray] = {}
        self.rows_done = 0

    def add(self, tile: Tile, pixels: np.ndarray) -> None:
        self.pending[tile.index] = pixels
        rows = self.grid.rows
        while self.rows_done < len(rows) and all(t.index in self.pending for t in rows[self.rows_done]):
            row = rows[self.rows_done]
            strip = combine_row(self.grid, row, [self.pending.pop(t.index) for t in row])
            add_row(self.grid, self.canvas, row[0].y, strip)
            self.rows_done += 1

    def image(self) -> np.ndarray:
        if self.rows_done != len(self.grid.rows):
            raise ValueError(f"only {self.rows_done} of {len(self.grid.rows)} tile rows are complete")
        return self.canvas


def combine(g: Grid, pixels: list[np.ndarray]) -> np.ndarray:
    """The whole image from every tile's pixels (in grid order)."""
    assembler = Assembler(g)
    for tile, tile_pixels in zip(g.tiles, pixels, strict=True):
        assembler.add(tile, tile_pixels)
    return assembler.image()
