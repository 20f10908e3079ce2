"""Proof-assistant layer: the Environment protocol, its result types, the Coq and LeanDojo backends."""
