"""Benchmark definitions and loaders, pass@k estimation and curves, studies, performance benchmarks."""
