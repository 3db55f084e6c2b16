"""Documents built to exhaust memory or the stack: YAML alias bombs, deep nesting, oversized recipes,
provenance records of the wrong shape. Each is a clear refusal naming its limit, in bounded memory."""

import pytest

from atlas.core import limits
from atlas.core.errors import BadInput
from atlas.core.record import recipes
from tests.support.hostile import alias_bomb, png_with_provenance, run_capped

MEMORY_BUDGET = 200 << 20
DEEP = 50_000


def test_alias_bomb_refused_naming_the_limit():
    assert len(alias_bomb()) < 600
    with pytest.raises(BadInput, match="MAX_YAML_NODES"):
        recipes.parse(alias_bomb(), "bomb.yaml")


def test_aliases_within_the_budget_still_work():
    text = "base: &b {steps: 20}\nother: *b\nmore: {<<: *b, cfg: 7}\n"
    assert recipes.parse(text, "r") == {"base": {"steps": 20}, "other": {"steps": 20},
                                        "more": {"steps": 20, "cfg": 7}}


@pytest.mark.parametrize("text", ["- " * 5000 + "x", "x: " + "[" * 5000 + "]" * 5000,
                                  '{"a": ' * 5000 + "1" + "}" * 5000],
                         ids=["yaml-block", "yaml-flow", "json"])
def test_deep_recipe_refused_naming_the_limit(text):
    with pytest.raises(BadInput, match="MAX_JSON_DEPTH"):
        recipes.parse(text, "deep.yaml")


def test_oversized_recipe_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("txt2img: {prompt: '" + "x" * (limits.MAX_RECIPE_BYTES + 1) + "'}\n")
    with pytest.raises(BadInput, match="MAX_RECIPE_BYTES"):
        recipes.load(path)


def test_json_depth_ignores_brackets_in_strings():
    assert limits.json_depth('{"a": [1, {"b": "[[[\\"["}]}') == 3
    assert limits.json_depth("[" * DEEP + "]" * DEEP) == DEEP


def test_deep_provenance_is_a_problem_not_a_recursion_error(tmp_path, cli):
    path = png_with_provenance(tmp_path / "deep.png", "[" * DEEP + "]" * DEEP)
    inspected = cli("inspect", path)
    assert inspected.code == 0, inspected.err
    assert f"JSON nested {DEEP} deep, more than MAX_JSON_DEPTH" in inspected.out
    verified = cli("verify", path)
    assert verified.code == 1 and "Traceback" not in verified.err


def test_deep_provenance_refused_by_read_record(tmp_path):
    from atlas.core.files import embed

    data = png_with_provenance(tmp_path / "deep.png", "[" * DEEP + "]" * DEEP).read_bytes()
    with pytest.raises(BadInput, match="MAX_JSON_DEPTH"):
        embed.read_record(data, "deep.png")


def test_wrong_shape_record_is_a_clear_problem_in_verify(tmp_path, cli):
    path = png_with_provenance(tmp_path / "shape.png", '{"render": [1, 2]}')
    verified = cli("verify", path)
    assert verified.code == 1
    assert "not in the catalogue" in verified.out
    inspected = cli("inspect", path)
    assert inspected.code == 0 and "breaks the schema" in inspected.out


@pytest.mark.parametrize("kind", ["alias-bomb", "deep-json"])
def test_peak_memory_bounded(tmp_path, kind):
    if kind == "alias-bomb":
        path = tmp_path / "bomb.yaml"
        path.write_text(alias_bomb())
        args = ("run", path)
    else:
        path = png_with_provenance(tmp_path / "deep.png", "[" * DEEP + "]" * DEEP)
        args = ("inspect", path)
    done, peak = run_capped(*args, home=tmp_path / "home", timeout=120)
    assert done.returncode in (0, 2), done.stderr.decode()[-2000:]
    assert 0 < peak < MEMORY_BUDGET, f"{kind}: peak RSS {peak >> 20} MiB"
    print(f"{kind}: peak RSS {peak / (1 << 20):.1f} MiB")


def ztxt_bomb(path, chunks: int = 100):
    """A PNG with `chunks` zTXt chunks, each inflating to just under the per-chunk cap (~16 MiB of 'a')."""
    import zlib

    from atlas.core.files import png
    from tests.support.pngs import small_png

    body = zlib.compress(b"a" * (png.MAX_INFLATED - 1024), 9)
    extra = [png.Chunk(b"zTXt", f"bomb{i}".encode() + b"\0\0" + body) for i in range(chunks)]
    path.write_bytes(png.with_text(small_png(), extra))
    return path


@pytest.mark.parametrize("command", [("inspect", "--json"), ("inspect",), ("import",), ("verify",)])
def test_many_text_bombs_stay_bounded(tmp_path, command):
    # Each chunk alone is within its cap; a hundred of them add up to 1.6 GB unless the total is capped.
    path = ztxt_bomb(tmp_path / "ztxt-bomb.png")
    assert path.stat().st_size < 2_000_000
    done, peak = run_capped(*command, path, home=tmp_path / "home", timeout=120)
    assert done.returncode in (0, 1, 2), done.stderr.decode()[-2000:]
    assert b"Traceback" not in done.stderr
    assert 0 < peak < MEMORY_BUDGET, f"{command}: peak RSS {peak >> 20} MiB"
    assert len(done.stdout) < 20 << 20  # at most MAX_SHOWN_TEXT and its quoting
    if command[0] == "inspect":
        assert b"MAX_SHOWN_TEXT" in done.stdout
    print(f"{' '.join(command)}: peak RSS {peak / (1 << 20):.1f} MiB, {len(done.stdout) >> 20} MiB printed")
