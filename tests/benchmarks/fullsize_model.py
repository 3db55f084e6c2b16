"""The benchmark model: Stable Diffusion 1.5's full-size architecture with random weights.

UNet (~860M parameters), VAE and CLIP ViT-L/14 text encoder are built from the values of SD 1.5's
published diffusers configs (written out below), seeded, so every build is the same bytes; nothing
is downloaded. It costs what a real SD-1.x checkpoint costs to run, draws noise, and is only for
the benchmarks (never the test suite). Built once into a cache folder (ATLAS_BENCH_MODEL, default
~/.cache/atlas-bench/sd15-random) and registered into a catalogue by `ensure(catalogue)`, or by
hand: `atlas model add ~/.cache/atlas-bench/sd15-random --name sd15-random` (the card says CC0-1.0).

    python tests/benchmarks/fullsize_model.py [--verify]   # build (and check that a rebuild is identical)

The tokenizer cannot be CLIP's (its merges would be a download). It extends the demo model's
byte-level vocabulary (atlas/engine/demo_model.py: 256 byte symbols, alone and word-final) with
synthetic two-symbol merges up to CLIP's size, so ids span the text encoder's 49408-row embedding
and <|startoftext|>/<|endoftext|> sit at CLIP's ids 49406/49407.
"""

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

SEED = 15  # fixed: the same weights (and so the same model hash) on every machine
NAME = "atlas-bench-sd15-random"
CARD = """---
license: CC0-1.0
tags: [atlas-benchmark, random-weights]
---
# atlas benchmark model

Stable Diffusion 1.5's architecture with random weights (seed {seed}), built locally by
tests/benchmarks/fullsize_model.py. Not a trained model: its outputs are noise.
"""

# SD 1.5's diffusers configs (unet/, vae/, text_encoder/, scheduler/ config.json). Against the
# library defaults, SD 1.5 sets cross_attention_dim 768 (diffusers: 1280), sample_size 64, and the
# legacy CLIP ids bos 0 / eos 2 / pad 1 (transformers then pools at the highest id, the eos token).
UNET = {
    "act_fn": "silu", "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False, "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
    "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
VAE = {
    "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4, "in_channels": 3, "latent_channels": 4,
    "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 512,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}
TEXT_ENCODER = {
    "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2, "hidden_act": "quick_gelu",
    "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 3072,
    "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "num_attention_heads": 12,
    "num_hidden_layers": 12, "pad_token_id": 1, "projection_dim": 768, "vocab_size": 49408,
}
SCHEDULER = {  # PNDMScheduler in the published folder; atlas picks the sampler's own class from it
    "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
    "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
    "trained_betas": None,
}
MERGES = 49152 - 256 - 2  # CLIP's merge count: vocab 49408 = 512 symbols + merges + 2 special tokens


def folder() -> Path:
    return Path(os.environ.get("ATLAS_BENCH_MODEL") or Path.home() / ".cache" / "atlas-bench" / "sd15-random")


def write_tokenizer(target: Path) -> None:
    """Byte symbols (alone and word-final), then merges of two symbols, letters and digits first."""
    from tokenizers.pre_tokenizers import ByteLevel

    symbols = sorted(ByteLevel.alphabet())
    first = sorted(symbols, key=lambda s: (not s.isalpha(), not s.isdigit(), s))
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    merges = []
    for a in first:
        for b in first:
            for right in (b, b + "</w>"):
                if len(merges) < MERGES:
                    merges.append(f"{a} {right}")
                    vocab[a + right] = len(vocab)
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    target.mkdir(parents=True, exist_ok=True)
    (target / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (target / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")


def build(target: Path) -> Path:
    """Build the pipeline into `target` (diffusers layout, fp32 safetensors, ~4.3 GB)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from atlas.engine.pipelines import quiet

    quiet()
    write_tokenizer(target / "tokenizer")
    tokenizer = CLIPTokenizer(str(target / "tokenizer" / "vocab.json"), str(target / "tokenizer" / "merges.txt"),
                              model_max_length=77)
    assert len(tokenizer) == TEXT_ENCODER["vocab_size"], len(tokenizer)
    # One seed per part, so each part's weights do not depend on the order they are built in.
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel.from_config(UNET)
    torch.manual_seed(SEED + 1)
    vae = AutoencoderKL.from_config(VAE)
    torch.manual_seed(SEED + 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=PNDMScheduler.from_config(SCHEDULER), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(target, safe_serialization=True)
    (target / "README.md").write_text(CARD.format(seed=SEED), encoding="utf-8")
    return target


def ensure_built() -> Path:
    """The model folder, built on first use (beside the target, then moved: no half-built model)."""
    target = folder()
    if (target / "model_index.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".build-"))
    try:
        build(tmp)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def ensure(catalogue):
    """The benchmark model's catalogue row, registered (by the catalogue API) on first use."""
    from sqlmodel import select

    from atlas.core.catalogue.tables import Model
    from atlas.core.record.models import register

    path = ensure_built()
    with catalogue.session() as session:
        found = session.exec(select(Model).where(Model.name == NAME)).first()
        if found is None:
            found = register(session, str(path), NAME, None)
            session.commit()
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verify", action="store_true", help="build a second copy and compare weight hashes")
    args = parser.parse_args()
    from atlas.core.record.models import weights_digest

    path = ensure_built()
    digest = weights_digest(path)
    print(f"{path}  weights sha256 {digest}")
    if args.verify:
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            again = weights_digest(build(Path(tmp)))
        print(f"rebuild {'identical' if again == digest else 'DIFFERS: ' + again}")
        raise SystemExit(0 if again == digest else 1)


if __name__ == "__main__":
    main()
