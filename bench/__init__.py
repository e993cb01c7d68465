"""The benchmark: `python -m bench` (see bench/README.md and the README's Performance section)."""
