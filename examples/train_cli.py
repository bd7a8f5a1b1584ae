"""``minigrad train`` from Python: a BN MLP on moons, with plots in train_out/.

Shell equivalent:
    minigrad train --dataset moons --noise 0.15 --model 2-64-64-2 --bn --steps 300 --lr 0.1
"""
from minigrad.cli import main

main(["train", "--dataset", "moons", "--noise", "0.15", "--model", "2-64-64-2", "--bn",
      "--steps", "300", "--lr", "0.1", "--out", "train_out"])
