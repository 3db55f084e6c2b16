"""Reading renders made by other programs: file facts, their metadata, and what it means.

`reader` reads one file (run in worker processes), `extract` takes the metadata texts from its
bytes, `tools` chooses the reader for them by content: `a1111` (A1111 and its forks, Civitai's
text), `comfyui` (the sampler that made a ComfyUI image), `novelai`, `invokeai`, `fooocus`
(Fooocus, RuinedFooocus), `swarmui`, `civitai` (its JSON), `tensorart`, `easydiffusion`,
`hfspace`, `drawthings`, and atlas's own record; `generation` holds the fields they fill and the
rules they share. `atlas.core.importers.batch` writes the results.
"""
