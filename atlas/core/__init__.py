"""The headless core: catalogue, record, query, metadata, export.

Nothing in this package may import torch, diffusers or textual (tests/test_layering.py checks it),
so read commands start fast.
"""
