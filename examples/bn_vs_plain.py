"""The BatchNorm paper's Figure 1 on two moons: 3 hidden layers of 100 sigmoid units,
batch 60, lr 2.0 — with BatchNorm the network learns, without it stalls (writes a figure).

The same from the command line:  minigrad experiment bn-vs-plain --lr 2.0 --out figures
"""
import argparse
from pathlib import Path

import minigrad as mg
from minigrad.train import plot_figure1

results = mg.experiments.compare_bn("moons", "sigmoid", (100, 100, 100), lr=2.0, steps=300,
                                    batch_size=60, seed=0)
for name, result in results.items():
    print(f"{name:>5}: test accuracy {result['test_accuracy']:.3f}, 90% at step "
          f"{mg.experiments.steps_to_accuracy(result, 0.9)}, percentiles at the end "
          f"{result['percentiles'][-1].round(2)}")
labels = argparse.Namespace(dataset="moons", hidden="100,100,100", activation="sigmoid",
                            lr=2.0, batch_size=60)
print("wrote", *plot_figure1(results, Path("bn_vs_plain"), labels))
