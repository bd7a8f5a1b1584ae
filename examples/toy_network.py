"""The README's ten-line toy network: a BatchNorm MLP on two moons."""
import minigrad as mg

nn, F = mg.nn, mg.nn.functional
X, y = mg.data.moons(1000, noise=0.15, seed=0)
X_test, y_test = mg.data.moons(500, noise=0.15, seed=1)
net = nn.Sequential(nn.Linear(2, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 2))
opt = mg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
for epoch in range(20):
    for xb, yb in mg.data.batches(X, y, batch_size=64, seed=epoch):
        opt.zero_grad(); F.cross_entropy(net(mg.tensor(xb)), yb).backward(); opt.step()  # noqa: E702
print("test accuracy", (net.eval()(mg.tensor(X_test)).argmax(1).numpy() == y_test).mean())
