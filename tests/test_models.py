"""The model registry: hashes, licences from model cards, CLI errors."""

import hashlib
import shutil

import pytest

from atlas.core.errors import BadInput
from atlas.core.record import models


def test_demo_model_is_registered_with_its_hash_and_licence(demo_catalogue, demo_model_dir):
    with demo_catalogue.session() as session:
        model = models.get(session, models.DEMO_MODEL_NAME)
    assert model.demo and model.format == "diffusers" and model.licence_id == "CC0-1.0"
    assert model.sha256 == models.weights_digest(demo_model_dir)
    assert model.short_hash == model.sha256[:10]


def test_demo_model_build_is_deterministic(demo_model_dir, tmp_path):
    from atlas.engine.demo_model import build

    again = build(tmp_path / "again")
    assert models.weights_digest(again) == models.weights_digest(demo_model_dir)


def test_single_file_hash_is_a1111_short_hash(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"not really weights" * 100)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert models.weights_digest(weights) == digest
    assert models.short_hash(digest) == digest[:10]


def test_model_add_reads_licence_from_card_or_requires_flag(catalogue, cli, demo_model_dir, tmp_path):
    folder = tmp_path / "sd"
    shutil.copytree(demo_model_dir, folder)
    (folder / "README.md").write_text("---\nlicense: creativeml-openrail-m\n---\n# a model\n")
    result = cli("model", "add", folder, "--name", "sd-v1-4-lookalike", "--json")
    assert result.code == 0, result.err
    assert result.json()["licence"] == "creativeml-openrail-m"

    (folder / "README.md").unlink()
    result = cli("model", "add", folder, "--name", "no-card")
    assert result.code == 2 and "--licence" in result.err
    result = cli("model", "add", folder, "--name", "no-card", "--licence", "openrail++", "--json")
    assert result.code == 0 and result.json()["licence"] == "openrail++"

    listed = cli("model", "list", "--json").json()
    assert [m["name"] for m in listed] == ["sd-v1-4-lookalike", "no-card"]


@pytest.mark.parametrize("setup, message", [
    ("missing", "no such file or folder"),
    ("not-a-pipeline", "no model_index.json"),
    ("bad-suffix", "must be .safetensors or .ckpt"),
])
def test_model_add_rejects_bad_sources(catalogue, cli, tmp_path, setup, message):
    source = tmp_path / setup
    if setup == "not-a-pipeline":
        source.mkdir()
        (source / "weights.safetensors").write_bytes(b"x")
    elif setup == "bad-suffix":
        source = tmp_path / "weights.zip"
        source.write_bytes(b"x")
    result = cli("model", "add", source, "--name", "m", "--licence", "MIT")
    assert result.code == 2 and message in result.err
    assert cli("model", "list", "--json").json() == []


def test_duplicate_model_name_is_refused(demo_catalogue):
    with demo_catalogue.session() as session, pytest.raises(BadInput, match="already registered"):
        models.register(session, str(demo_catalogue.home.models / models.DEMO_MODEL_NAME),
                        models.DEMO_MODEL_NAME, "CC0-1.0")


def test_real_checkpoint_becomes_the_default_model(demo_catalogue, demo_model_dir, tmp_path):
    folder = tmp_path / "real"
    shutil.copytree(demo_model_dir, folder)
    with demo_catalogue.session() as session:
        assert models.default_checkpoint(session).demo
        models.register(session, str(folder), "real-one", "creativeml-openrail-m")
        session.commit()
        assert models.default_checkpoint(session).name == "real-one"
