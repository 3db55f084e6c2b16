"""A single-file (original LDM layout) checkpoint loads through from_single_file like a folder does."""

import numpy as np
from PIL import Image

from tests.support import ldm_checkpoint


def _pixels(catalogue, render_id):
    from atlas.core.record.build import get_render

    with catalogue.session() as session:
        render = get_render(session, render_id)
    return np.asarray(Image.open(catalogue.store.path_of(render.store_path)))


def test_ldm_key_mapping_inverts_diffusers_conversion(demo_model_dir):
    """diffusers' own LDM->diffusers converters give back the exact diffusers names."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint

    unet = UNet2DConditionModel.from_pretrained(demo_model_dir, subfolder="unet")
    vae = AutoencoderKL.from_pretrained(demo_model_dir, subfolder="vae")
    ldm = ldm_checkpoint.unet_keys(unet.state_dict(), dict(unet.config))
    ldm.update(ldm_checkpoint.vae_keys(vae.state_dict(), dict(vae.config)))
    assert set(convert_ldm_unet_checkpoint(ldm, dict(unet.config))) == set(unet.state_dict())
    assert set(convert_ldm_vae_checkpoint(ldm, dict(vae.config))) == set(vae.state_dict())


def test_single_file_checkpoint_renders_like_the_folder(demo_catalogue, demo_model_dir, cli, tmp_path):
    weights = ldm_checkpoint.write(demo_model_dir, tmp_path / "tiny-sd.safetensors")
    added = cli("model", "add", weights, "--name", "tiny-single", "--licence", "creativeml-openrail-m",
                "--config", demo_model_dir, "--json")
    assert added.code == 0, added.err
    assert added.json()["format"] == "single-file"

    args = ["a red cube", "--steps", "3", "--size", "64x64", "--seed", "7", "--json"]
    from_folder = cli("generate", *args)
    from_file = cli("generate", *args, "--model", "tiny-single")
    assert from_folder.code == 0 and from_file.code == 0, from_file.err
    import hashlib
    passes = from_file.json()["record"]["lineage"]
    assert passes[-1]["model"]["name"] == "tiny-single"
    assert passes[-1]["model"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert np.array_equal(_pixels(demo_catalogue, from_folder.json()["id"]),
                          _pixels(demo_catalogue, from_file.json()["id"]))


def test_single_file_without_config_is_refused(demo_catalogue, demo_model_dir, cli, tmp_path):
    weights = ldm_checkpoint.write(demo_model_dir, tmp_path / "tiny-sd.safetensors")
    assert cli("model", "add", weights, "--name", "no-config", "--licence", "openrail++").code == 0
    result = cli("generate", "x", "--steps", "1", "--size", "64x64", "--model", "no-config")
    assert result.code == 2 and "--config" in result.err
    with demo_catalogue.session() as session:
        from sqlmodel import select

        from atlas.core.catalogue.tables import Render
        assert session.exec(select(Render)).all() == []
