"""A1111's "NV" RNG source: CUDA's `torch.randn` computed on the CPU with numpy.

torch draws normal noise on CUDA with cuRAND's Philox 4x32-10 (Salmon et al., "Parallel Random
Numbers: As Easy as 1, 2, 3", SC 2011; the Random123 library). Each element `i` of one draw is one
Philox block:
- key: the seed's 64 bits as (low word, high word);
- counter: (draw number, 0, i low word, i high word): cuRAND's `curand_init(seed, subsequence=i,
  offset)` puts the subsequence in the counter's upper half, and torch advances the offset by 4 words
  (one counter step) per draw;
- the normal is the sine half of Box-Muller on the block's first two words, the first value of cuRAND's
  `curand_normal4`.
The third and fourth words are unused. This holds while one draw has no more elements than the GPU runs
threads (torch's `calc_execution_policy`: 256 per block, some blocks per multiprocessor; e.g. 270,336 on an
H200): beyond that torch gives a thread several elements and the values follow another layout, on each GPU
its own. A1111's NV does not model that either; an SD latent per image (4x64x64) is far below it.

The Box-Muller arithmetic is A1111's (modules/rng_philox.py): float64 with cuRAND's float32 constants,
rounded to float32 at the end. cuRAND itself computes in float32 with the GPU's fast `__sincosf`, so the
last bits of a value can differ from CUDA's; A1111's NV images are the reference this source reproduces.
"""

import numpy as np

PHILOX_M = (0xD2511F53, 0xCD9E8D57)  # Random123's multipliers for Philox 4x32
PHILOX_W = (0x9E3779B9, 0xBB67AE85)  # its Weyl key increments (golden ratio, sqrt(3) - 1)
ROUNDS = 10
_MASK = 0xFFFFFFFF

# cuRAND's CURAND_2POW32_INV and CURAND_2POW32_INV_2PI, float32 constants, as A1111 writes them.
TWO_POW32_INV = float(np.float32(2.3283064e-10))
TWO_POW32_INV_2PI = float(np.float32(2.3283064e-10 * 6.2831855))


def _mulhilo(a: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    product = a.astype(np.uint64) * np.uint64(m)
    return (product >> np.uint64(32)).astype(np.uint32), (product & np.uint64(_MASK)).astype(np.uint32)


def philox4x32(counter: np.ndarray, key: tuple[int, int], rounds: int = ROUNDS) -> np.ndarray:
    """Philox 4x32 of each column of `counter` (uint32, shape (4, n)) under one `key` (two 32-bit words)."""
    c0, c1, c2, c3 = (counter[i].astype(np.uint32) for i in range(4))
    k0, k1 = key[0] & _MASK, key[1] & _MASK
    for round_number in range(rounds):
        if round_number:
            k0, k1 = (k0 + PHILOX_W[0]) & _MASK, (k1 + PHILOX_W[1]) & _MASK
        hi0, lo0 = _mulhilo(c0, PHILOX_M[0])
        hi1, lo1 = _mulhilo(c2, PHILOX_M[1])
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint32(k0), lo1, hi0 ^ c3 ^ np.uint32(k1), lo0
    return np.stack([c0, c1, c2, c3])


def box_muller_sin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The sine half of cuRAND's Box-Muller on two uint32 words, as float32 (A1111's arithmetic)."""
    u = x.astype(np.float64) * TWO_POW32_INV + TWO_POW32_INV / 2  # in (0, 1): log never sees 0
    v = y.astype(np.float64) * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2
    return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32)


class PhiloxGenerator:
    """CUDA's generator for one seed: each `randn` is one `torch.randn` call on it (the next counter step)."""

    def __init__(self, seed: int):
        self.seed = int(seed) % 2**64  # torch reads a negative seed as its two's complement
        self.offset = 0

    def randn(self, shape: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(shape, dtype=np.int64))
        index = np.arange(n, dtype=np.uint64)
        counter = np.zeros((4, n), dtype=np.uint32)
        counter[0] = self.offset & _MASK
        counter[1] = self.offset >> 32
        counter[2] = (index & np.uint64(_MASK)).astype(np.uint32)
        counter[3] = (index >> np.uint64(32)).astype(np.uint32)
        self.offset += 1
        block = philox4x32(counter, (self.seed & _MASK, self.seed >> 32))
        return box_muller_sin(block[0], block[1]).reshape(shape)
