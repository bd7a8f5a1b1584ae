"""MNIST from IDX files you already have (train-images-idx3-ubyte[.gz] etc. in a folder):
the paper's network, 784-100-100-100-10 sigmoid with BatchNorm, batch 60.

    python examples/mnist.py /path/to/mnist --steps 2000
Without MNIST, ``--digits`` uses scikit-learn's 8x8 digits (pip install 'minigrad[digits]').
"""
import argparse

import minigrad as mg
from minigrad import experiments as ex

parser = argparse.ArgumentParser()
parser.add_argument("path", nargs="?")
parser.add_argument("--digits", action="store_true")
parser.add_argument("--steps", type=int, default=1000)
args = parser.parse_args()
if args.digits or not args.path:
    split = mg.data.train_test_split(*mg.data.digits(), 0.25, seed=0)
else:
    X, y = mg.data.mnist(args.path, "train")
    X_test, y_test = mg.data.mnist(args.path, "test")
    split = (X, X_test, y, y_test)
mg.manual_seed(0)
model = ex.mlp([split[0].shape[1], 100, 100, 100, 10], "sigmoid", "bn")
result = ex.train_classifier(model, split, lr=1.0, steps=args.steps, batch_size=60,
                             eval_every=100)
print(f"test accuracy after {args.steps} steps: {result['test_accuracy']:.4f}")
