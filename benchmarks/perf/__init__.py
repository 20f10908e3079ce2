"""Speed benchmarks: each module runs with `python -m benchmarks.perf.<name>` and prints medians and ratios."""
