"""SGD, SGD with Nesterov momentum and Adam on the same MLP, plus a StepLR schedule."""
import minigrad as mg
from minigrad import experiments as ex

F = mg.nn.functional
X_train, X_test, y_train, y_test = ex.load_dataset("spirals", n=1000, noise=0.1, seed=0)
settings = {
    "SGD lr 0.3": lambda p: mg.optim.SGD(p, lr=0.3),
    "SGD nesterov lr 0.1": lambda p: mg.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adam lr 0.01": lambda p: mg.optim.Adam(p, lr=0.01),
}
for name, make in settings.items():
    mg.manual_seed(0)
    net = ex.mlp([2, 64, 64, 2], "relu", "bn")
    opt = make(net.parameters())
    schedule = mg.optim.StepLR(opt, step_size=5, gamma=0.7)  # decay every 5 epochs
    for epoch in range(20):
        for xb, yb in mg.data.batches(X_train, y_train, 64, seed=epoch):
            opt.zero_grad()
            F.cross_entropy(net(mg.tensor(xb)), yb).backward()
            opt.step()
        schedule.step()
    print(f"{name:>20}: test accuracy {ex.accuracy(net, X_test, y_test):.3f}, "
          f"final lr {schedule.get_last_lr()[0]:.4f}")
