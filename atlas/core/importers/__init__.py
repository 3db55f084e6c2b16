"""Reading renders made by other programs: file facts, their metadata, and what it means.

`reader` reads one file (run in worker processes), `tools` turns the metadata that A1111 and its
forks, ComfyUI, InvokeAI, NovelAI, Fooocus, SwarmUI or atlas wrote into pass fields, `comfyui`
finds the sampler that made a ComfyUI image. `atlas.core.importers.batch` writes the results.
"""
