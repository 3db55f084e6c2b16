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


def test_adding_the_same_weights_under_their_name_again_is_the_same_model(demo_catalogue):
    # what each machine of a team does with its copy: no second row, no error
    with demo_catalogue.session() as session:
        before = models.get(session, models.DEMO_MODEL_NAME)
        again = models.register(session, str(demo_catalogue.home.models / models.DEMO_MODEL_NAME),
                                models.DEMO_MODEL_NAME, "CC0-1.0")
        assert again.id == before.id


def test_real_checkpoint_becomes_the_default_model(demo_catalogue, demo_model_dir, tmp_path):
    folder = tmp_path / "real"
    shutil.copytree(demo_model_dir, folder)
    with demo_catalogue.session() as session:
        assert models.default_checkpoint(session).demo
        models.register(session, str(folder), "real-one", "creativeml-openrail-m")
        session.commit()
        assert models.default_checkpoint(session).name == "real-one"


# --- models by hash across machines (a shared catalogue, one local file per machine) ---

def weights_file(folder, content=b"checkpoint weights " * 1000, name="model.safetensors"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def test_a_second_machine_adding_the_same_weights_maps_its_path_not_a_new_model(catalogue, cli, tmp_path,
                                                                               monkeypatch):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Model, ModelFile

    on_a = weights_file(tmp_path / "machine-a")
    on_b = weights_file(tmp_path / "machine-b" / "elsewhere", name="renamed.safetensors")
    monkeypatch.setenv("ATLAS_HOST", "machine-a")
    first = cli("model", "add", on_a, "--name", "sd", "--licence", "creativeml-openrail-m", "--json")
    assert first.code == 0, first.err
    assert first.json()["new"] is True
    monkeypatch.setenv("ATLAS_HOST", "machine-b")
    second = cli("model", "add", on_b, "--name", "sd-on-b", "--licence", "creativeml-openrail-m")
    assert second.code == 0, second.err
    assert "already registered" in second.out and str(on_b) in second.out
    with catalogue.session() as session:
        assert [m.name for m in session.exec(select(Model))] == ["sd"]
        files = {(f.host, f.path) for f in session.exec(select(ModelFile))}
    digest = hashlib.sha256(on_a.read_bytes()).hexdigest()
    assert files == {("machine-a", str(on_a)), ("machine-b", str(on_b))}
    assert models.resolve_local(catalogue, digest) == on_b
    monkeypatch.setenv("ATLAS_HOST", "machine-a")
    assert models.resolve_local(catalogue, digest) == on_a


def test_other_weights_under_a_taken_name_are_still_refused(catalogue, cli, tmp_path):
    one = weights_file(tmp_path / "one")
    two = weights_file(tmp_path / "two", content=b"other weights")
    assert cli("model", "add", one, "--name", "sd", "--licence", "creativeml-openrail-m").code == 0
    result = cli("model", "add", two, "--name", "sd", "--licence", "creativeml-openrail-m")
    assert result.code == 2 and "already registered" in result.err


def test_resolve_local_names_the_hash_and_model_when_this_machine_lacks_it(catalogue, tmp_path, monkeypatch):
    path = weights_file(tmp_path / "a")
    monkeypatch.setenv("ATLAS_HOST", "machine-a")
    with catalogue.session() as session:
        model = models.register(session, str(path), "sd", "creativeml-openrail-m")
        session.commit()
    path.unlink()  # machine a lost it; machine b never had it
    monkeypatch.setenv("ATLAS_HOST", "machine-b")
    with pytest.raises(models.ModelMissing) as raised:
        models.resolve_local(catalogue, model.sha256)
    message = str(raised.value)
    assert model.sha256 in message and "'sd'" in message and "machine-b" in message


def test_a_file_with_other_bytes_at_the_recorded_path_is_not_taken_for_the_model(catalogue, tmp_path):
    path = weights_file(tmp_path / "a")
    with catalogue.session() as session:
        model = models.register(session, str(path), "sd", "creativeml-openrail-m")
        session.commit()
    path.write_bytes(b"replaced by something else")
    with pytest.raises(models.ModelMissing):
        models.resolve_local(catalogue, model.sha256)


def test_search_paths_find_a_model_by_hash_once_then_from_the_mapping(catalogue, tmp_path, monkeypatch):
    from sqlmodel import select

    from atlas.core.catalogue.tables import ModelFile
    from atlas.core.record.hash_cache import HashCache

    registered = weights_file(tmp_path / "a")
    with catalogue.session() as session:
        model = models.register(session, str(registered), "sd", "creativeml-openrail-m")
        session.commit()
    monkeypatch.setenv("ATLAS_HOST", "machine-b")
    library = tmp_path / "b-library"
    weights_file(library / "x", content=b"some other checkpoint")
    copy = weights_file(library / "y" / "z", content=registered.read_bytes(), name="mine.safetensors")
    registered.unlink()
    catalogue.home.config_path.write_text(f'[models]\nsearch_paths = ["{tmp_path / "missing"}", "{library}"]\n')
    assert models.resolve_local(catalogue, model.sha256) == copy.resolve()
    with catalogue.session() as session:
        mapped = session.exec(select(ModelFile.path).where(ModelFile.host == "machine-b")).all()
    assert mapped == [str(copy.resolve())]
    # the scan's hashes are cached by (path, size, mtime): a second look reads no file again
    cache = HashCache(catalogue.home.root / "model-hashes.json")
    assert set(cache.entries) == {str((library / "x" / "model.safetensors").resolve()), str(copy.resolve())}
    assert cache.digest(copy) == model.sha256 and cache.hashed == 0
    copy.write_bytes(b"changed")
    assert cache.digest(copy) == hashlib.sha256(b"changed").hexdigest() and cache.hashed == 1


def test_models_search_paths_config_is_validated(catalogue, tmp_path):
    catalogue.home.config_path.write_text('[models]\nsearch_paths = "not a list"\n')
    with pytest.raises(BadInput):
        catalogue.home.config()
