"""Per-image noise as A1111 draws it (atlas.engine.rng), against references written here from the
published algorithms: Random123's Philox and cuRAND's layout, torch's own generators, and A1111's
variation, seed resize and ENSD rules worked out by hand."""

import math

import numpy as np
import pytest
import torch

from atlas.core.errors import BadInput
from atlas.core.seeding import SeedSettings
from atlas.engine.rng import ImageNoise, image_noise, place_centred, seed_noise, slerp
from atlas.engine.rng.philox import PhiloxGenerator, philox4x32

SHAPE = (4, 8, 8)
CUDA = torch.cuda.is_available()

# --- an independent Philox 4x32-10 in plain integers, from the Random123 paper's definition ----------

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85


def reference_philox(counter: list[int], key: list[int]) -> list[int]:
    c, k = list(counter), list(key)
    for r in range(10):
        if r:
            k = [(k[0] + W0) % 2**32, (k[1] + W1) % 2**32]
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 % 2**32, (p0 >> 32) ^ c[3] ^ k[1], p0 % 2**32]
    return c


def reference_randn(seed: int, n: int, draw: int = 0) -> np.ndarray:
    """CUDA's `torch.randn` as cuRAND lays it out: element i of draw d is Philox((d, 0, i, 0), seed),
    the sine half of Box-Muller on its first two words with cuRAND's float32 constants (the
    arithmetic in float64, as A1111's NV does it)."""
    c = float(np.float32(2.3283064e-10))
    c2pi = float(np.float32(2.3283064e-10 * 6.2831855))
    out = []
    for i in range(n):
        x, y, _, _ = reference_philox([draw, 0, i, 0], [seed % 2**32, seed >> 32])
        out.append(math.sqrt(-2.0 * math.log(x * c + c / 2)) * math.sin(y * c2pi + c2pi / 2))
    return np.array(out, dtype=np.float32)


def test_philox_matches_random123_known_answers():
    # Random123's tests/kat_vectors, the three "philox4x32 10" lines: counter, key -> output.
    vectors = [
        ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
        ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
         [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
    ]
    for counter, key, expected in vectors:
        assert reference_philox(counter, key) == expected
        got = philox4x32(np.array(counter, dtype=np.uint32).reshape(4, 1), (key[0], key[1]))
        assert [int(v) for v in got[:, 0]] == expected


def test_nv_seed_0_gives_a1111s_documented_values():
    # A1111 documents these for `Generator(seed=0).randn(shape=(3, 4))` in the docstring of
    # modules/rng_philox.py ("RNG imitating torch cuda randn on CPU"), printed to 8 decimals. They
    # agree with its own arithmetic to 2.1e-7 (the printed values are float64 ones before the final
    # rounding to float32), hence the tolerance; a wrong layout or key is off by whole units.
    documented = np.array([[-0.92466259, -0.42534415, -2.6438457, 0.14518388],
                           [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
                           [-1.07454231, -0.36314407, -1.67105067, 2.26550497]])
    got = PhiloxGenerator(0).randn((3, 4))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, documented, rtol=0, atol=3e-7)
    # The first value as CUDA prints it (torch.manual_seed(0); torch.randn(4, device="cuda")).
    assert round(float(got[0, 0]), 4) == -0.9247


@pytest.mark.parametrize("seed", [0, 1234, 2**32 - 1, 2**40 + 7])
def test_nv_matches_the_reference_layout_for_each_draw(seed):
    gen = PhiloxGenerator(seed)
    for draw in range(3):  # each draw is the next counter step
        got = gen.randn((2, 3, 5)).ravel()
        np.testing.assert_array_max_ulp(got, reference_randn(seed, 30, draw), maxulp=1)


def test_nv_seed_1234_first_values():
    # A1111 documents no values for seed 1234 (atlas's reference seed): the reference above gives them.
    got = seed_noise("NV", 1234, (1, 2, 4))
    expected = reference_randn(1234, 8)
    np.testing.assert_array_max_ulp(got.numpy().ravel(), expected, maxulp=1)


def test_nv_negative_seed_is_read_as_torch_reads_it():
    # torch.manual_seed maps a negative seed to its two's complement; NV keys Philox with the same bits.
    assert torch.Generator().manual_seed(-5).initial_seed() == 2**64 - 5
    np.testing.assert_array_equal(PhiloxGenerator(-5).randn((8,)), PhiloxGenerator(2**64 - 5).randn((8,)))


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
@pytest.mark.parametrize("seed", [0, 1234, 2**32 - 1, 2**40 + 3])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (4, 64, 64), (4, 96, 128)])
def test_nv_is_torch_randn_on_cuda(seed, shape):
    # cuRAND computes Box-Muller in float32 with the GPU's __sincosf: values agree to a few 1e-7
    # (the Philox words themselves are the same, or they would differ by whole units).
    cuda = torch.Generator("cuda").manual_seed(seed)
    nv = PhiloxGenerator(seed)
    for _ in range(2):
        expected = torch.randn(shape, generator=cuda, device="cuda").cpu().numpy()
        got = nv.randn(shape)
        same = float(np.mean(got == expected))
        print(f"seed {seed} shape {shape}: max |NV - CUDA| {np.abs(got - expected).max():.3g}, "
              f"bit-identical {same:.1%}")
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_gpu_source_is_the_cuda_generator():
    noise = ImageNoise(SHAPE, [1234], source="GPU")
    cuda = torch.Generator("cuda").manual_seed(1234)
    assert torch.equal(noise.first()[0], torch.randn(SHAPE, generator=cuda, device="cuda").cpu())
    assert torch.equal(noise.next()[0], torch.randn(SHAPE, generator=cuda, device="cuda").cpu())


@pytest.mark.skipif(CUDA, reason="checks the machine without CUDA")
def test_gpu_source_without_cuda_names_nv():
    with pytest.raises(BadInput, match="NV"):
        ImageNoise(SHAPE, [1], source="GPU")
    with pytest.raises(BadInput, match="NV"):
        image_noise(SHAPE, [1], SeedSettings(rng="GPU"))


def cpu_draws(seed: int, count: int, shape=SHAPE) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=gen) for _ in range(count)]


def nv_draws(seed: int, count: int, shape=SHAPE) -> list[torch.Tensor]:
    gen = PhiloxGenerator(seed)
    return [torch.from_numpy(gen.randn(shape)) for _ in range(count)]


DRAWS = {"CPU": cpu_draws, "NV": nv_draws}


@pytest.mark.parametrize("source", ["CPU", "NV"])
def test_start_noise_and_later_draws_follow_the_seed_stream(source):
    noise = ImageNoise(SHAPE, [1234, 99], source=source)
    first, second, third = noise.first(), noise.next(), noise.next()
    assert first.shape == (2, *SHAPE) and first.dtype == torch.float32 and first.device.type == "cpu"
    for i, seed in enumerate([1234, 99]):
        expected = DRAWS[source](seed, 3)
        assert torch.equal(first[i], expected[0]) and torch.equal(second[i], expected[1])
        assert torch.equal(third[i], expected[2])


def test_next_before_first_is_the_start_noise():
    assert torch.equal(ImageNoise(SHAPE, [5]).next()[0], cpu_draws(5, 1)[0])


@pytest.mark.parametrize("source", ["CPU", "NV"])
def test_ensd_shifts_only_the_later_draws(source):
    plain = ImageNoise(SHAPE, [1234], source=source)
    shifted = ImageNoise(SHAPE, [1234], source=source, ensd=31337)
    assert torch.equal(shifted.first(), plain.first())
    later = [shifted.next()[0], shifted.next()[0]]
    expected = DRAWS[source](1234 + 31337, 2)  # fresh generators seeded with seed + ENSD
    assert torch.equal(later[0], expected[0]) and torch.equal(later[1], expected[1])
    assert not torch.equal(later[0], plain.next()[0])


def test_variation_strength_0_is_the_plain_seed():
    got = ImageNoise(SHAPE, [1234], variation_seeds=[77], variation_strength=0.0).first()
    assert torch.equal(got[0], cpu_draws(1234, 1)[0])


@pytest.mark.parametrize("source", ["CPU", "NV"])
def test_variation_strength_1_is_the_variation_seeds_noise(source):
    got = ImageNoise(SHAPE, [1234], source=source, variation_seeds=[77], variation_strength=1.0)
    assert torch.equal(got.first()[0], DRAWS[source](77, 1)[0])
    # the later draws stay the seed's own
    assert torch.equal(got.next()[0], DRAWS[source](1234, 2)[1])


def test_variation_strength_half_is_slerp_by_hand():
    low, high = cpu_draws(1234, 1)[0].double().numpy(), cpu_draws(77, 1)[0].double().numpy()
    expected = np.empty_like(low)
    for c in range(low.shape[0]):  # A1111 takes each (channel, column) as one vector over the rows
        for w in range(low.shape[2]):
            a, b = low[c, :, w], high[c, :, w]
            omega = math.acos(float(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b))))
            expected[c, :, w] = (math.sin(0.5 * omega) * a + math.sin(0.5 * omega) * b) / math.sin(omega)
    got = ImageNoise(SHAPE, [1234], variation_seeds=[77], variation_strength=0.5).first()[0]
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=2e-5)


def test_slerp_of_parallel_noise_takes_a1111s_linear_branch():
    # Nearly parallel vectors (mean cosine > 0.9995): low * val + high * (1 - val), A1111's order.
    low = cpu_draws(3, 1)[0]
    assert torch.allclose(slerp(0.25, low, 2 * low), 0.25 * low + 0.75 * 2 * low)


def test_place_centred_smaller_noise_lands_whole_in_the_middle():
    target, noise = torch.zeros(1, 8, 10), torch.arange(1, 21, dtype=torch.float32).reshape(1, 4, 5)
    out = place_centred(target, noise)
    # offsets (8 - 4) // 2 = 2 rows and (10 - 5) // 2 = 2 columns
    assert torch.equal(out[0, 2:6, 2:7], noise[0])
    out[0, 2:6, 2:7] = 0
    assert torch.equal(out, target)


def test_place_centred_larger_noise_is_cropped_and_an_odd_row_keeps_the_target():
    target = torch.full((1, 8, 8), -1.0)
    noise = torch.arange(11 * 12, dtype=torch.float32).reshape(1, 11, 12)
    out = place_centred(target, noise)
    # rows: offset (8 - 11) // 2 = -2, so 11 - 4 = 7 rows from noise row 2 into rows 0..6; row 7 stays
    # columns: offset (8 - 12) // 2 = -2, so 12 - 4 = 8 columns from noise column 2 into columns 0..7
    assert torch.equal(out[0, 0:7, 0:8], noise[0, 2:9, 2:10])
    assert torch.equal(out[0, 7], target[0, 7])


@pytest.mark.parametrize("source", ["CPU", "NV"])
def test_seed_resize_sets_the_other_sizes_noise_into_the_seeds_noise(source):
    # From 80x48 pixels: noise of 10x6 latent cells. Rows: offset (8 - 6) // 2 = 1, all 6 rows land at
    # 1..6. Columns: offset (8 - 10) // 2 = -1, 8 columns from column 1 land at 0..7.
    noise = ImageNoise(SHAPE, [1234], source=source, resize_from=(80, 48))
    got = noise.first()[0]
    expected = DRAWS[source](1234, 1)[0].clone()  # the seed's noise at this size
    other = DRAWS[source](1234, 1, (4, 6, 10))[0]  # the seed's noise at the other size
    expected[:, 1:7, 0:8] = other[:, 0:6, 1:9]
    assert torch.equal(got, expected)
    assert torch.equal(noise.next()[0], DRAWS[source](1234, 2)[1])  # the seed's stream went on by one


def test_seed_resize_to_the_same_size_is_the_plain_seed():
    assert torch.equal(ImageNoise(SHAPE, [9], resize_from=(64, 64)).first()[0], cpu_draws(9, 1)[0])


@pytest.mark.parametrize("source", ["CPU", "NV"])
def test_an_images_noise_does_not_depend_on_its_batch(source):
    options = {"source": source, "ensd": 5, "variation_strength": 0.3, "resize_from": (48, 80)}
    batch = ImageNoise(SHAPE, [10, 11, 12], variation_seeds=[20, 21, 22], **options)
    alone = ImageNoise(SHAPE, [11], variation_seeds=[21], **options)
    for _ in range(3):
        assert torch.equal(batch.next()[1], alone.next()[0])


def test_image_noise_from_seed_settings_counts_variation_seeds_up():
    settings = SeedSettings(rng="NV", ensd=7, variation_seed=40, variation_strength=0.25,
                            seed_resize_from=(48, 48))
    built = image_noise(SHAPE, [3, 3], settings)
    by_hand = ImageNoise(SHAPE, [3, 3], source="NV", ensd=7, variation_seeds=[40, 41], variation_strength=0.25,
                         resize_from=(48, 48))
    assert torch.equal(built.first(), by_hand.first()) and torch.equal(built.next(), by_hand.next())
    with pytest.raises(BadInput, match="variation seed"):
        image_noise(SHAPE, [3], SeedSettings(variation_strength=0.5))  # -1: not resolved yet


def test_variation_seeds_must_match_the_seeds():
    with pytest.raises(ValueError, match="variation seeds"):
        ImageNoise(SHAPE, [1, 2], variation_seeds=[3], variation_strength=0.5)
