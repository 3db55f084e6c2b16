"""The generation engine: the only layer that imports torch, diffusers and spandrel."""
