"""The seed's snippet, as written: BatchNorm1d(eps=0) on two samples, ReLU, sum, backward.

With two samples and eps = 0 the normalised values are always -1 and +1 whatever x is, so
every gradient through them cancels exactly: x.grad is [0, 0]. (PyTorch 2.13 refuses
eps = 0 in training; minigrad runs the snippet unchanged.)
"""
import minigrad as mg

net = mg.nn.BatchNorm1d(1, momentum=0, eps=0, affine=False)
x = mg.tensor([-1, 1], dtype="float32", requires_grad=True)
y = mg.nn.ReLU()(net(x.view(-1, 1))).sum()
y.backward()
print(x.grad)  # tensor([0., 0.])
