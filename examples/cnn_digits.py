"""A small CNN on the 8x8 digits (scikit-learn's; pip install 'minigrad[digits]'):
[Conv2d 3x3 -> BatchNorm2d -> ReLU -> MaxPool2d 2] x 2 -> Flatten -> Linear, SGD.

    python examples/cnn_digits.py [--steps 300] [--jit] [--out cnn_out]
Shell equivalent: minigrad train --dataset digits --model cnn --steps 300 --lr 0.1
"""
import argparse
from pathlib import Path

from tqdm import tqdm

import minigrad as mg
from minigrad import experiments as ex
from minigrad import nn
from minigrad.cnn import Image
from minigrad.train import plot_training

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--jit", action="store_true", help="compile the training step")
parser.add_argument("--out", default="cnn_out")
args = parser.parse_args()

split = ex.load_dataset("digits", seed=0)  # (X_train, X_test, y_train, y_test), rows of 64
mg.manual_seed(0)
probe = ex.Probe()  # records the last block's input to its ReLU, for train_classifier
model = nn.Sequential(
    Image(1, 8),  # (N, 64) -> (N, 1, 8, 8)
    nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
    nn.MaxPool2d(2),  # -> (N, 16, 4, 4)
    nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), probe, nn.ReLU(),
    nn.MaxPool2d(2),  # -> (N, 32, 2, 2)
    nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
)
object.__setattr__(model, "probe", probe)
with tqdm(total=args.steps, unit="step", desc="training") as bar:
    result = ex.train_classifier(model, split, lr=args.lr, steps=args.steps, batch_size=64,
                                 eval_every=25, progress=lambda step, loss: bar.update(1),
                                 jit=mg.jit if args.jit else None)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
labels = argparse.Namespace(dataset="digits", model="cnn", activation="relu", bn=True,
                            ln=False, optimizer="sgd", lr=args.lr, batch_size=64)
print("wrote", plot_training(result, out / "training.png", labels))
print(f"test accuracy after {args.steps} steps: {result['test_accuracy']:.4f}")
