"""vcred benchmarks: each operation measured beside its floor, in one process run."""
