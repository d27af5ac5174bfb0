"""Reusable test contracts (pytest) that every sampler of ours must pass."""
