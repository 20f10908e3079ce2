"""Tactic generator model, datasets, CE/DCO/DCOstep/DCOa losses, batch refill, trainer.

factor.py      F(N, p) and the DCO loss in log space (the one home of the formula)
losses.py      ce / dcostep / dco / dcoa as strategies of one Loss interface
dataset.py     TrainData: the steps a caller loads and passes in (bullets and braces left out)
data.py        prompt format, encoding, units (steps or whole proofs), batches
prompt.py      fitting a state (goal kept) and the retrieved tactics into their budgets
features.py    features of a goal display; hypothesis-name adaptation
knn.py         the k-NN index over train states and KnnTacticGenerator
retrieval.py   retrieved tactics for prompts, never from the theorem or after it
tokenizer.py   byte-level BPE trained on the corpus
model.py       the from-scratch model config; loading any HF / GGUF checkpoint
scoring.py     target log-probs of a batch (one forward pass)
sampling.py    batched greedy / sampled decoding with a KV cache
refill.py      the resumable unit stream and the threshold batch refill
checkpoint.py  checkpoint save / validate / restore
trainer.py     TrainConfig + the one training loop (Accelerate)
generator.py   ModelTacticGenerator (search's TacticGenerator)
vllm_generator.py  the same on vLLM (GPU extra, lazy import)
confidence.py  max-confidence probes and next-tactic accuracy
"""
