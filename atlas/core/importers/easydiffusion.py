"""Easy Diffusion ("embed" metadata): each request field as its own PNG text chunk, or all of them as
a JSON object in a JPEG/WebP's EXIF UserComment. Keys: prompt, negative_prompt, seed,
use_stable_diffusion_model (a path), sampler_name, width, height, num_inference_steps,
guidance_scale, prompt_strength (img2img only), use_vae_model, clip_skip, use_lora_model,
lora_alpha, ...; its "txt" format writes the same under labels ("Negative Prompt", "Stable
Diffusion model", ...), which are read too."""

from atlas.core.importers.generation import Generation, number_fields, set_sampler, set_seed, text

TOOL = "Easy Diffusion"
# snake_case key -> the label Easy Diffusion's text format uses for it.
LABELS = {"prompt": "Prompt", "negative_prompt": "Negative Prompt", "seed": "Seed",
          "use_stable_diffusion_model": "Stable Diffusion model", "sampler_name": "Sampler", "width": "Width",
          "height": "Height", "num_inference_steps": "Steps", "guidance_scale": "Guidance Scale",
          "prompt_strength": "Prompt Strength", "use_vae_model": "VAE model", "clip_skip": "Clip Skip"}
MARKS = ("use_stable_diffusion_model", "Stable Diffusion model")


def is_easy_diffusion(doc: dict) -> bool:
    return any(mark in doc for mark in MARKS) and any(k in doc for k in ("prompt", "Prompt"))


def read(doc: dict) -> Generation:
    def get(key):
        return doc.get(key, doc.get(LABELS[key]))

    gen = Generation(tool=TOOL, prompt=text(get("prompt")), negative_prompt=text(get("negative_prompt")))
    set_seed(gen, get("seed"))
    set_sampler(gen, get("sampler_name"))
    number_fields(gen, get("num_inference_steps"), get("guidance_scale"), get("prompt_strength"), get("width"),
                  get("height"))
    model = get("use_stable_diffusion_model")
    if isinstance(model, str) and model.strip():
        gen.settings["model"] = model.replace("\\", "/").rsplit("/", 1)[-1]  # the file name, not the user's path
        gen.settings["model_path"] = model
    used = set(LABELS) | set(LABELS.values())
    gen.settings["easydiffusion"] = {k: v for k, v in doc.items() if k not in used}
    return gen
