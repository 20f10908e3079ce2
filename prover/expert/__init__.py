"""Expert iteration (``dco expert-iterate``): prove the training theorems the
models have not proved yet, add the new verified proofs to the training data,
retrain every N' model, evaluate on the test split, repeat.

- :mod:`.config`: the run's settings (:class:`ExpertConfig`).
- :mod:`.store`: the rounds and added proofs in the run's SQLite database.
- :mod:`.models`: the starting model of each N', and how a round retrains it.
- :mod:`.proofs`: new verified proofs: deduplicated, traced into steps, and
  the augmented benchmark a round trains on.
- :mod:`.searching`: one model's search over a list of theorems, resumable.
- :mod:`.loop`: the rounds.
"""
