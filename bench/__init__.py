"""Benchmarks: ``python -m bench`` prints eltflow's numbers next to a peer's, as ratios."""
