"""CLI conventions: the home's precedence, init, help everywhere, exit codes."""

import json

import pytest

from atlas.core.catalogue.home import Home
from tests.support import tui_catalogue
from tests.support.processes import run_atlas


def test_home_precedence_flag_over_env_over_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_HOME", str(tmp_path / "from-env"))
    assert Home.resolve().root == tmp_path / "from-env"
    assert Home.resolve(tmp_path / "from-flag").root == tmp_path / "from-flag"
    monkeypatch.delenv("ATLAS_HOME")
    assert Home.resolve().root.name == "atlas"


def test_init_creates_the_home_with_flag(tmp_path, cli):
    target = tmp_path / "elsewhere"
    result = cli("--home", target, "init", "--json")
    assert result.code == 0, result.err
    facts = result.json()
    assert facts["home"] == str(target)
    assert (target / "atlas.db").is_file() and (target / "store").is_dir()


def test_help_everywhere():
    for args in (["--help"], ["generate", "--help"], ["show", "--help"], ["model", "add", "--help"]):
        done = run_atlas(*args)
        assert done.returncode == 0 and "Usage:" in done.stdout


def test_unknown_command_and_missing_argument_exit_2(home):
    assert run_atlas("teleport", env={"ATLAS_HOME": str(home.root)}).returncode == 2
    done = run_atlas("show", env={"ATLAS_HOME": str(home.root)})
    assert done.returncode == 2 and "Missing argument" in done.stderr


def test_show_unknown_render_exits_2(catalogue, cli):
    result = cli("show", "41", "--json")
    assert result.code == 2 and "no render with id 41" in result.err
    result = cli("show", "abc")
    assert result.code == 2 and "must be a number" in result.err


def test_hub_id_offline_is_a_clear_error(catalogue, cli, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = cli("model", "add", "CompVis/stable-diffusion-v1-4", "--name", "sd", "--licence",
                 "creativeml-openrail-m")
    assert result.code == 2 and "could not download" in result.err
    assert not any(catalogue.home.models.iterdir())  # no half-downloaded folder left
    assert cli("model", "list", "--json").json() == []


def test_list_json_is_empty_on_a_new_catalogue(catalogue, cli):
    result = cli("list", "--json")
    assert result.code == 0 and json.loads(result.out) == []


def test_list_shows_the_newest_renders_with_their_producing_pass(catalogue, cli):
    ids = tui_catalogue.build(catalogue, frozen=False)
    newest = sorted(ids["chain"] + ids["singles"], reverse=True)
    items = cli("list", "--json", "--limit", "3").json()
    assert [item["id"] for item in items] == newest[:3]
    assert list(items[0]) == ["id", "created", "width", "height", "kind", "prompt", "seed", "licence", "sha256"]
    assert (items[0]["kind"], items[0]["seed"], items[0]["licence"]) == ("upscale", 1234, "CC0-1.0")
    lines = cli("list", "--limit", "2").out.splitlines()
    assert [line.split()[0] for line in lines] == [str(i) for i in newest[:2]]
    assert "upscale" in lines[0] and "seed 1234" in lines[0] and "digital painting of a futuris" in lines[0]


HUGE = "99999999999999999999999"  # past 64 bits: the database driver raises rather than answers


@pytest.mark.parametrize("args, message", [
    (["show", HUGE], f"no render with id {HUGE}"),
    (["tag", HUGE, "+x"], f"no render with id {HUGE}"),
    (["verify", HUGE], f"no render with id {HUGE}"),
    (["img2img", HUGE, "--steps", "2"], f"no render with id {HUGE}"),
    (["export", HUGE, "--to", "out"], f"no render with id {HUGE}"),
    (["run", "--resume", HUGE], f"no run with id {HUGE}"),
    (["search", f"seed:{HUGE}"], "seed is out of range"),
    (["search", f"width:>{HUGE}", "--count"], "width is out of range"),
])
def test_ids_and_numbers_past_64_bits_are_clear_errors(catalogue, cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = cli(*args)
    assert result.code == 2 and message in result.err, (result.code, result.err)
    assert "Traceback" not in result.err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["demo"], ["run", "demo"]])
def test_demo_and_run_name_a_bad_seed_as_the_option(catalogue, cli, command):
    result = cli(*command, "--seed", "-5")
    assert result.code == 2 and "seed must be -1 (random) or between 0 and" in result.err, result.err
    with catalogue.session() as session:
        from sqlmodel import select

        from atlas.core.catalogue.tables import Run
        assert session.exec(select(Run)).all() == []
