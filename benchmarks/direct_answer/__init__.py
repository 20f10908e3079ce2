"""The synthetic direct-answer study: CE against DCO and
DCOa on a multiplication task with an exact verifier, on a CPU in minutes.
Run ``python -m benchmarks.direct_answer.study --out DIR``."""
