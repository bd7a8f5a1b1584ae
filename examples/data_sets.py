"""The toy data sets side by side (writes data_sets.png)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import minigrad as mg

fig, axes = plt.subplots(1, 5, figsize=(17, 3.6))
for axis, name in zip(axes, ["moons", "circles", "spirals", "blobs", "xor"], strict=True):
    X, y = getattr(mg.data, name)(400, seed=0)
    axis.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm" if y.max() == 1 else "tab10", s=8)
    axis.set(title=f"mg.data.{name}(400)", xlabel="$x_1$", ylabel="$x_2$")
fig.tight_layout()
fig.savefig("data_sets.png", dpi=110)
print("wrote data_sets.png")
