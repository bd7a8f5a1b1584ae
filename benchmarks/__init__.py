"""minigrad's benchmarks (issue 3): ``python -m benchmarks.run`` or ``make bench``."""
