"""Image files in other tools' formats, built from each format's documentation, for the import tests
(test_import*, test_extract): format builders, one document builder per tool, and `BUILDERS`
(tool -> seed -> (file name, bytes)) that makes one file of every reader."""

import gzip
import hashlib
import io
import json
import struct
from xml.sax.saxutils import escape

import piexif
import piexif.helper
from PIL import Image, PngImagePlugin

SEED15 = 987654321098765  # a 15-digit seed, as ComfyUI's random seeds are
CKPT = "sd_xl_base_1.0.safetensors"


def base_graph(seed=SEED15, save="SaveImage") -> dict:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CKPT}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox in snow\n", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": 28, "cfg": 6.5, "sampler_name": "euler_ancestral", "scheduler": "karras",
            "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": save, "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }


def stealth_image(text: str, signature: bytes, mode="RGBA", size=(40, 30)) -> Image.Image:
    payload = text.encode()
    if signature.endswith(b"comp"):
        payload = gzip.compress(payload)
    bits = "".join(f"{b:08b}" for b in signature + struct.pack(">I", len(payload) * 8) + payload)
    per_pixel = 1 if signature.startswith(b"stealth_png") else 3
    image = Image.new(mode, size, (120, 130, 140, 254)[: len(mode)])
    pixels = image.load()
    height = size[1]
    for i in range(0, len(bits), per_pixel):  # column by column, top to bottom
        x, y = divmod(i // per_pixel, height)
        value = list(pixels[x, y])
        for k, bit in enumerate(bits[i:i + per_pixel]):
            channel = 3 if per_pixel == 1 else k
            value[channel] = (value[channel] & ~1) | int(bit)
        pixels[x, y] = tuple(value)
    return image


def digest_tree(root):
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def png(chunks: dict, mode="RGB", size=(16, 24)) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key, value)  # UTF-8 by the spec, whatever the text
    out = io.BytesIO()
    Image.new(mode, size, (40, 50, 60, 255)[: len(mode)]).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def user_comment_exif(text: str, **ifd0) -> bytes:
    """EXIF as A1111, SwarmUI and Civitai write it: UserComment in the Exif IFD, UNICODE (UTF-16)."""
    zeroth = {piexif.ImageIFD.Software: ifd0["software"].encode()} if "software" in ifd0 else {}
    if "description" in ifd0:
        zeroth[piexif.ImageIFD.ImageDescription] = ifd0["description"].encode()
    return piexif.dump({"0th": zeroth, "Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(
        text, "unicode")}})


def jpeg(exif: bytes = b"", xmp: bytes | None = None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 24), (40, 50, 60)).save(out, "JPEG", exif=exif, **({"xmp": xmp} if xmp else {}))
    return out.getvalue()


def webp(exif: bytes = b"", image: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (image or Image.new("RGB", (16, 24), (40, 50, 60))).save(out, "WEBP", exif=exif, lossless=True, exact=True)
    return out.getvalue()


def novelai_comment(seed=3177711254, **extra) -> dict:
    return {"prompt": "2girls, cafe, masterpiece", "steps": 28, "height": 1216, "width": 832, "scale": 5.5,
            "uncond_scale": 0.0, "cfg_rescale": 0.0, "seed": seed, "n_samples": 1, "noise_schedule": "karras",
            "sampler": "k_dpmpp_2m", "uc": "lowres, blurry", "request_type": "PromptGenerateRequest",
            "signed_hash": "c2lnbmVk", **extra}


def novelai_chunks(comment: dict, source="Stable Diffusion XL C1E1DE52") -> dict:
    return {"Title": "NovelAI generated image", "Description": comment["prompt"], "Software": "NovelAI",
            "Source": source, "Generation time": "3.1", "Comment": json.dumps(comment)}


def novelai_png(seed=3177711254) -> bytes:
    return png(novelai_chunks(novelai_comment(seed)))


def invokeai_metadata(seed=1234567890) -> dict:
    """InvokeAI 4.x/5.x: the model as {key, hash, name, base, type}."""
    return {"generation_mode": "sdxl_txt2img", "positive_prompt": "a glass teapot, studio light",
            "negative_prompt": "blurry", "width": 1024, "height": 768, "seed": seed, "rand_device": "cpu",
            "cfg_scale": 6.0, "cfg_rescale_multiplier": 0.0, "steps": 32, "scheduler": "dpmpp_2m_k",
            "model": {"key": "9f1c-4b2e", "hash": "blake3:5e1d0a0c2f", "name": "juggernautXL_v9", "base": "sdxl",
                      "type": "main"},
            "app_version": "5.4.2"}


def fooocus_doc(seed="6952411511246973023") -> dict:
    return {"prompt": "a paper boat", "negative_prompt": "low quality", "full_prompt": ["a paper boat, origami"],
            "full_negative_prompt": ["low quality"], "styles": "['Fooocus V2']", "performance": "Speed",
            "steps": 30, "resolution": "(1152, 896)", "guidance_scale": 4, "sharpness": 2,
            "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion",
            "base_model_hash": "aeb7e9e689", "refiner_model": "None", "refiner_switch": 0.5,
            "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras", "seed": seed, "loras": [],
            "metadata_scheme": "fooocus", "version": "Fooocus v2.5.3"}


def fooocus_jpeg(seed="6952411511246973023") -> bytes:
    """Fooocus' JPEG: the JSON as UserComment and the version as Software, both in IFD0 (as it writes them)."""
    exif = Image.Exif()
    exif[0x9286] = json.dumps(fooocus_doc(seed))
    exif[0x0131] = "Fooocus v2.5.3"
    return jpeg(exif.tobytes())


def ruined_doc(seed=98765) -> dict:
    return {"Prompt": "a fox in a library", "Negative": "text", "steps": 30, "cfg": 8, "width": 1152, "height": 896,
            "seed": seed, "sampler_name": "dpmpp_2m_sde_gpu", "scheduler": "karras",
            "base_model_name": "sd_xl_base_1.0_0.9vae.safetensors", "base_model_hash": "e6bb9ea85b", "loras": [],
            "start_step": 0, "denoise": 1, "clip_skip": 1, "software": "RuinedFooocus"}


def space_doc(seed=1234) -> dict:
    return {"prompt": "1girl, cherry blossoms", "negative_prompt": "lowres", "resolution": "832 x 1216",
            "guidance_scale": 7, "num_inference_steps": 28, "style_preset": "(None)", "seed": seed,
            "sampler": "Euler a", "Model": "Animagine XL 3.1", "Model hash": "e3c47aedb0", "use_upscaler": None}


def swarm_doc(seed=1234) -> dict:
    return {"sui_image_params": {"prompt": "a teapot", "negativeprompt": "blur", "model": "sd_xl_base_1.0",
                                 "seed": seed, "steps": 25, "cfgscale": 5.5, "aspectratio": "1:1", "width": 1024,
                                 "height": 1024, "sampler": "dpmpp_2m", "scheduler": "karras",
                                 "swarm_version": "0.9.2.1"},
            "sui_models": [{"name": "sd_xl_base_1.0.safetensors", "param": "model", "hash": "0x31e35c80fc"}],
            "sui_extra_data": {"date": "2024-09-01"}}


def civitai_doc(seed=555, extra=True) -> dict:
    doc: dict = {**base_graph(seed=seed), "extra": {"airs": ["urn:air:sdxl:checkpoint:civitai:101055@128078"]}}
    if extra:
        doc["extraMetadata"] = json.dumps({"prompt": "a koi pond", "negativePrompt": "text", "steps": 25,
                                           "cfgScale": 4, "sampler": "DPM++ 2M Karras", "seed": seed, "width": 832,
                                           "height": 1216, "baseModel": "SDXL", "workflowId": "txt2img"})
    return doc


def tensorart_png(seed="2865291847") -> bytes:
    data = {"prompt": "a neon street", "negativePrompt": "lowres", "width": 768, "height": 1152, "seed": seed,
            "steps": 30, "cfgScale": 7, "clipSkip": 2,
            "baseModel": {"modelId": "600", "modelFileName": "majicmixRealistic_v7", "hash": "7C819B6D13"}}
    return png({"generation_data": json.dumps(data) + "\0\0", "prompt": json.dumps(base_graph())})


def easy_fields(seed=42) -> dict:
    return {"prompt": "a red bicycle", "negative_prompt": "people", "seed": seed,
            "use_stable_diffusion_model": "C:\\EasyDiffusion\\models\\stable-diffusion\\sd-v1-5.safetensors",
            "clip_skip": False, "use_vae_model": "", "sampler_name": "euler_a", "width": 512, "height": 768,
            "num_inference_steps": 25, "guidance_scale": 7.5, "tiling": None}


def drawthings_xmp(seed=3344) -> str:
    settings = {"c": "a lighthouse at dusk", "uc": "fog", "seed": seed, "steps": 20, "scale": 4.5,
                "sampler": "DPM++ 2M Karras", "model": "sd_xl_base_1.0_f16.ckpt", "size": "1024x768",
                "strength": 1, "aesthetic_score": 6, "lora": []}
    description = ("a lighthouse at dusk\n-fog\nSteps: 20, Sampler: DPM++ 2M Karras, Guidance Scale: 4.5, "
                   f"Seed: {seed}, Size: 1024x768, Model: sd_xl_base_1.0_f16.ckpt")
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 6.0.0"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
            'xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(description)}</rdf:li></rdf:Alt>'
            '</dc:description><exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">'
            f'{escape(json.dumps(settings))}</rdf:li></rdf:Alt></exif:UserComment>'
            '<xmp:CreatorTool>Draw Things</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>')


def a1111_png(seed) -> bytes:
    return png({"parameters": f"a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                              f"Seed: {seed}, Size: 512x512"})


BUILDERS = {
    "AUTOMATIC1111": lambda seed: ("a.png", a1111_png(seed)),
    "ComfyUI": lambda seed: ("c.png", png({"prompt": json.dumps(base_graph(seed=seed))})),
    "NovelAI": lambda seed: ("n.png", novelai_png(seed)),
    "InvokeAI": lambda seed: ("i.png", png({"invokeai_metadata": json.dumps(invokeai_metadata(seed))})),
    "Fooocus": lambda seed: ("f.jpg", fooocus_jpeg(str(seed))),
    "RuinedFooocus": lambda seed: ("r.png", png({"parameters": json.dumps(ruined_doc(seed))})),
    "Hugging Face Space": lambda seed: ("h.png", png({"parameters": json.dumps(space_doc(seed))})),
    "SwarmUI": lambda seed: ("s.jpg", jpeg(user_comment_exif(json.dumps(swarm_doc(seed))))),
    "Civitai": lambda seed: ("v.jpg", jpeg(user_comment_exif(json.dumps(civitai_doc(seed))))),
    "TensorArt": lambda seed: ("t.png", tensorart_png(str(seed))),
    "Easy Diffusion": lambda seed: ("e.png", png({k: str(v) for k, v in easy_fields(seed).items()})),
    "Draw Things": lambda seed: ("d.png", png({"XML:com.adobe.xmp": drawthings_xmp(seed)})),
}
