"""Tactic generator model, datasets, CE/DCO/DCOstep/DCOa losses, batch refill, trainer."""
