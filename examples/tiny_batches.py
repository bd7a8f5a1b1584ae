"""BatchNorm's drawback from the seed: at batch sizes 2 and 4 the batch statistics are too
noisy (at 2 every normalised value is +-1), while LayerNorm, per sample, does not care.

The same from the command line:
    minigrad experiment bn-vs-ln --activation tanh --hidden 32,32 --lr 0.05 --steps 400 \\
        --batch-size 2
"""
import numpy as np

import minigrad as mg

for batch_size in (2, 4, 60):
    runs = mg.experiments.compare_norms("moons", "tanh", (32, 32), lr=0.05, steps=400,
                                        batch_size=batch_size, seed=0, norms=("bn", "ln"),
                                        noise=0.15)
    late = {k: np.mean(v["test_accuracy_curve"][-5:]) for k, v in runs.items()}
    print(f"batch {batch_size:>2}: BatchNorm {late['bn']:.3f}   LayerNorm {late['ln']:.3f}")
