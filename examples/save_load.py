"""Save a trained model's state dict to .npz (no pickle) and load it into a fresh model."""
import os
import tempfile

import minigrad as mg
from minigrad import experiments as ex

split = ex.load_dataset("circles", n=600, noise=0.05, seed=0)
mg.manual_seed(0)
model = ex.mlp([2, 32, 32, 2], "relu", "bn")
ex.train_classifier(model, split, lr=0.1, steps=300, batch_size=32, optimizer="momentum")
path = os.path.join(tempfile.mkdtemp(), "circles.npz")
mg.save(model.state_dict(), path)

fresh = ex.mlp([2, 32, 32, 2], "relu", "bn")  # other random weights
fresh.load_state_dict(mg.load(path))  # missing/unexpected keys or shapes would be named
print("saved", sorted(mg.load(path))[:4], "...")
print("accuracy before saving", ex.accuracy(model, split[1], split[3]),
      "after loading", ex.accuracy(fresh, split[1], split[3]))
