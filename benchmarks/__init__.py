"""Benchmarks of `homelab plan`: run with `.venv/bin/python -m benchmarks.plan_benchmark` (or `./dev bench`)."""
