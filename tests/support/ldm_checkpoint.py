"""Write a diffusers Stable Diffusion folder as one original-layout (LDM) checkpoint file.

Tests need a real single-file checkpoint to exercise `from_single_file`, and no weights may be
downloaded, so the tiny demo model is saved in the layout CompVis' code and A1111 use:
`model.diffusion_model.*` (UNet), `first_stage_model.*` (VAE), `cond_stage_model.transformer.*`
(CLIP). The names follow the published LDM module layout; the test proves the mapping right by
loading the file back through diffusers and comparing pixels.
"""

from pathlib import Path

RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
          "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
VAE_RESNET = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2",
              "conv_shortcut": "nin_shortcut"}
VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename(key: str, table: dict[str, str], old: str, new: str) -> str:
    rest = key[len(old):]
    for src, dst in table.items():
        if rest.startswith(src + "."):
            return new + dst + rest[len(src):]
    raise KeyError(key)


def unet_keys(state: dict, config: dict) -> dict:
    _levels, per_block = len(config["block_out_channels"]), config["layers_per_block"]
    out = {}
    for key, value in state.items():
        ldm = None
        for src, dst in (("time_embedding.linear_1.", "time_embed.0."), ("time_embedding.linear_2.", "time_embed.2."),
                         ("conv_in.", "input_blocks.0.0."), ("conv_norm_out.", "out.0."), ("conv_out.", "out.2.")):
            if key.startswith(src):
                ldm = dst + key[len(src):]
        parts = key.split(".")
        if ldm is None and parts[0] == "down_blocks":
            level, kind = int(parts[1]), parts[2]
            if kind == "downsamplers":
                ldm = f"input_blocks.{(level + 1) * (per_block + 1)}.0.op." + ".".join(parts[5:])
            else:
                block = 1 + level * (per_block + 1) + int(parts[3])
                prefix = ".".join(parts[:4]) + "."
                ldm = (_rename(key, RESNET, prefix, f"input_blocks.{block}.0.") if kind == "resnets"
                       else f"input_blocks.{block}.1." + ".".join(parts[4:]))
        elif ldm is None and parts[0] == "mid_block":
            prefix = ".".join(parts[:3]) + "."
            ldm = (_rename(key, RESNET, prefix, f"middle_block.{2 * int(parts[2])}.") if parts[1] == "resnets"
                   else "middle_block.1." + ".".join(parts[3:]))
        elif ldm is None and parts[0] == "up_blocks":
            level, kind = int(parts[1]), parts[2]
            if kind == "upsamplers":
                has_attention = "CrossAttn" in config["up_block_types"][level]
                block = level * (per_block + 1) + per_block
                ldm = f"output_blocks.{block}.{2 if has_attention else 1}.conv." + ".".join(parts[5:])
            else:
                block = level * (per_block + 1) + int(parts[3])
                prefix = ".".join(parts[:4]) + "."
                ldm = (_rename(key, RESNET, prefix, f"output_blocks.{block}.0.") if kind == "resnets"
                       else f"output_blocks.{block}.1." + ".".join(parts[4:]))
        if ldm is None:
            raise KeyError(key)
        out["model.diffusion_model." + ldm] = value
    return out


def vae_keys(state: dict, config: dict) -> dict:
    levels = len(config["block_out_channels"])
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        side = parts[0]
        if side in ("quant_conv", "post_quant_conv") or parts[1] in ("conv_in", "conv_out"):
            ldm = key
        elif parts[1] == "conv_norm_out":
            ldm = f"{side}.norm_out." + ".".join(parts[2:])
        elif parts[1] == "mid_block":
            prefix = ".".join(parts[:4]) + "."
            if parts[2] == "resnets":
                ldm = _rename(key, VAE_RESNET, prefix, f"{side}.mid.block_{int(parts[3]) + 1}.")
            else:
                ldm = _rename(key, VAE_ATTENTION, prefix, f"{side}.mid.attn_1.")
                if value.ndim == 2:  # LDM's attention projections are 1x1 convolutions
                    value = value[:, :, None, None]
        elif parts[1] in ("down_blocks", "up_blocks"):
            level = int(parts[2])
            name, level = (("down", level) if parts[1] == "down_blocks" else ("up", levels - 1 - level))
            if parts[3] in ("downsamplers", "upsamplers"):
                ldm = f"{side}.{name}.{level}.{name}sample.conv." + ".".join(parts[6:])
            else:
                prefix = ".".join(parts[:5]) + "."
                ldm = _rename(key, VAE_RESNET, prefix, f"{side}.{name}.{level}.block.{parts[4]}.")
        else:
            raise KeyError(key)
        out["first_stage_model." + ldm] = value
    return out


def write(folder: Path, target: Path) -> Path:
    """Save the pipeline in `folder` as one `.safetensors` file at `target`."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet")
    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae")
    text = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder")
    state = unet_keys(unet.state_dict(), dict(unet.config))
    state.update(vae_keys(vae.state_dict(), dict(vae.config)))
    # LDM names the CLIP weights `text_model.*`; transformers 5 drops that prefix in state_dict().
    state.update({"cond_stage_model.transformer." + (k if k.startswith("text_model.") else "text_model." + k): v
                  for k, v in text.state_dict().items()})
    save_file({k: v.contiguous() for k, v in state.items()}, str(target))
    return target
