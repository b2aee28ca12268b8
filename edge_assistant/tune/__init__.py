"""Tuning the small intent model to the catalog and the home (``edge-assistant tune``).

Needs the ``tune`` extra (torch, transformers, gguf); the runtime never imports this package.
"""
