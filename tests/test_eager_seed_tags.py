"""A gradient tensor passed again and again as ``grad_outputs`` does not pile up tags.

The backward pass tags its seed (``grad_of``, ``partial_of``, ``aliases``). A caller's
``dout`` reused on every step used to collect the tags of every earlier pass, which kept
every earlier forward graph alive (memory grew with each step, and so did the time spent
in fresh pages and in the garbage collector).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np

import minigrad as mg
from minigrad.nn import functional as F


def _bn_pass(x, gamma, beta, dout):
    out = F.batch_norm(x, None, None, gamma, beta, training=True, impl="composed")
    grads = mg.grad(out, [x, gamma, beta], grad_outputs=dout)
    return out, grads


def _leaves(rng):
    x = mg.tensor(rng.standard_normal((8, 3)), requires_grad=True)
    gamma = mg.tensor(rng.standard_normal(3), requires_grad=True)
    beta = mg.tensor(rng.standard_normal(3), requires_grad=True)
    dout = mg.tensor(rng.standard_normal((8, 3)))
    return x, gamma, beta, dout


def test_reused_seed_keeps_the_tags_of_the_latest_pass_only():
    x, gamma, beta, dout = _leaves(np.random.default_rng(0))
    out, _ = _bn_pass(x, gamma, beta, dout)
    first = ([n.name for n in dout.grad_of], [(p.name, c.name) for p, c in dout.partial_of],
             list(dout.meta.get("aliases", [])), dout.name)
    for _ in range(5):
        out, _ = _bn_pass(x, gamma, beta, dout)
    again = ([n.name for n in dout.grad_of], [(p.name, c.name) for p, c in dout.partial_of],
             list(dout.meta.get("aliases", [])), dout.name)
    assert again == first
    assert first[0] == ["out", "gammax"]  # dout is d(out) and, flowing on unchanged, d(gammax)
    assert first[3] == "dout"
    assert all(node is out or node in out.inputs for node in dout.grad_of)


def test_earlier_graphs_die_when_the_seed_is_reused():
    x, gamma, beta, dout = _leaves(np.random.default_rng(1))
    out, grads = _bn_pass(x, gamma, beta, dout)
    old = weakref.ref(out)
    del out, grads
    _bn_pass(x, gamma, beta, dout)
    gc.collect()
    assert old() is None


def test_reused_seed_gives_the_same_gradients_each_time():
    x, gamma, beta, dout = _leaves(np.random.default_rng(2))
    _, first = _bn_pass(x, gamma, beta, dout)
    _, second = _bn_pass(x, gamma, beta, dout)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
