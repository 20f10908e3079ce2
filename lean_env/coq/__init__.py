"""Coq backend over coqtop."""
