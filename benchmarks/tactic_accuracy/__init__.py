"""Next-tactic accuracy on the val split: ``python -m benchmarks.tactic_accuracy``.

For each policy (prior, lookup, k-NN, the LM, the LM with retrieval), over
the val steps that are tactics (bullets and braces left out): exact top-1
and recall@k (k = 4, 16, 64), a hit being a ranked tactic equal to the human
one after whitespace normalisation (and without a final period). For each
trained ensemble member (CE and DCOstep N'): train-set greedy accuracy and
the share of train steps whose factor F(N', p) is below 0.5 (is DCO acting?).
Results: ``benchmarks/results/tactic_accuracy/val.json``.
"""
