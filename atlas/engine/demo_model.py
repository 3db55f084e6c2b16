"""The embedded demo model: a tiny Stable Diffusion pipeline built locally from a fixed seed.

Its weights are random, so its pictures look like noise; it exists so atlas runs end to end with
no download. It is saved in diffusers format and loaded back with `from_pretrained`, the same path
a real model takes. The layout mirrors SD v1 (UNet with cross-attention, VAE with the usual 8x
downscale, CLIP text encoder, byte-level BPE tokenizer), only much narrower.
"""

import json
from pathlib import Path

SEED = 20221022  # fixed: the demo weights (and so their hash) are the same on every machine
CARD = """---
license: CC0-1.0
tags: [atlas-demo, random-weights]
---
# atlas demo model

A tiny Stable Diffusion pipeline with random weights, built by atlas from seed {seed}.
It is not a trained model: its outputs are noise-like and exist to exercise the workflow.
"""


def _write_tokenizer(folder: Path) -> None:
    """A CLIP byte-level BPE vocabulary: every byte symbol, alone and word-final, no merges."""
    from tokenizers.pre_tokenizers import ByteLevel

    symbols = sorted(ByteLevel.alphabet())  # the 256 printable stand-ins for bytes
    vocab = {}
    for symbol in symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]:
        vocab[symbol] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")


def build(folder: Path) -> Path:
    """Build the demo pipeline and save it to `folder` (diffusers layout). Returns the folder."""
    import torch
    from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from atlas.engine.pipelines import quiet

    quiet()
    folder = Path(folder)
    tokenizer_dir = folder / "tokenizer"
    _write_tokenizer(tokenizer_dir)
    # model_max_length must be set: a tokenizer made from local files otherwise has no limit.
    tokenizer = CLIPTokenizer(str(tokenizer_dir / "vocab.json"), str(tokenizer_dir / "merges.txt"),
                              model_max_length=77)

    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=64, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=16,
    )
    vae = AutoencoderKL(
        block_out_channels=(16, 16, 32, 32), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1, norm_num_groups=8, sample_size=512,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=vocab_id(tokenizer, "<|startoftext|>"), eos_token_id=vocab_id(tokenizer, "<|endoftext|>"),
        pad_token_id=vocab_id(tokenizer, "<|endoftext|>"), hidden_size=32, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=len(tokenizer), max_position_embeddings=77,
        projection_dim=32,
    ))
    scheduler = EulerAncestralDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        timestep_spacing="linspace", steps_offset=1,
    )
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    (folder / "README.md").write_text(CARD.format(seed=SEED), encoding="utf-8")
    return folder


def vocab_id(tokenizer, token: str) -> int:
    return tokenizer.convert_tokens_to_ids(token)


def ensure(catalogue):
    """The demo model's catalogue row, building and registering the model on first use.

    Built under the catalogue's `demo-model` lock: commands started at once on a fresh home would
    otherwise each build it, replace the folder another is loading and register it twice."""
    from atlas.core.catalogue.locks import database_lock

    found = _registered(catalogue)
    if found is not None:
        return found
    with database_lock(catalogue.engine, "demo-model"):
        return _registered(catalogue) or _build_and_register(catalogue)


def _registered(catalogue):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Model
    from atlas.core.record.models import DEMO_MODEL_NAME

    with catalogue.session() as session:
        return session.exec(select(Model).where(Model.name == DEMO_MODEL_NAME)).first()


def _build_and_register(catalogue):
    from atlas.core.record.models import DEMO_MODEL_NAME, register

    folder = catalogue.home.models / DEMO_MODEL_NAME
    if not (folder / "model_index.json").is_file():
        import shutil
        import tempfile

        # Build beside the target and move into place, so a crash never leaves half a model.
        tmp = Path(tempfile.mkdtemp(dir=catalogue.home.models, prefix=".build-"))
        try:
            build(tmp)
            shutil.rmtree(folder, ignore_errors=True)
            tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    with catalogue.session() as session:
        model = register(session, str(folder), DEMO_MODEL_NAME, None, demo=True)
        session.commit()
        return model
