"""Composition root pieces (being built)."""
