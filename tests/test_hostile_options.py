"""Integer options past what the catalogue can count are usage errors (exit 2), not OverflowError."""

import pytest


@pytest.mark.parametrize("args", [("search", "--limit", "99999999999999999999"),
                                  ("list", "--limit", "99999999999999999999"),
                                  ("search", "--offset", "99999999999999999999")])
def test_huge_integer_option_is_exit_2(cli, args):
    result = cli(*args)
    assert result.code == 2, result.err
    assert "is not in the range" in result.err


HUGE = "99999999999999999999"


@pytest.mark.parametrize("args, message", [
    (("generate", "x", "--steps", HUGE), "steps must be between 1 and 1000"),
    (("generate", "x", "--seed", HUGE), "seed must be -1 (random) or between 0 and 4294967295"),
    (("generate", "x", "--ensd", HUGE), "eta noise seed delta must be between 0 and 4294967295"),
    (("generate", "x", "--variation-seed", f"-{HUGE}"), "variation seed must be -1 (random) or between"),
    (("generate", "x", "--size", f"{HUGE}x64"), "width must be a multiple of 8 between 64 and 16384"),
    (("generate", "x", "--seed-resize-from", f"64x{HUGE}"), "seed resize from must be WIDTHxHEIGHT"),
    (("generate", "x", "--cfg", "nan"), "CFG scale must be between 1 and 30"),
    (("upscale", "1", "--tile", HUGE), "tile size must be a multiple of 8 between 64 and 16384"),
    (("upscale", "1", "--batch", HUGE), "batch must be between 1 and 64"),
    (("outpaint", "1", "--side", "up", "--pixels", HUGE), "pixels must be a multiple of 8 between 8 and 4096"),
    (("img2img", "1", "--denoise", "inf"), "denoising strength must be between 0 and 1"),
])
def test_huge_or_odd_generation_settings_are_exit_2_with_the_limit(cli, args, message):
    result = cli(*args)
    assert result.code == 2, result.err
    assert message in result.err and "Traceback" not in result.err
