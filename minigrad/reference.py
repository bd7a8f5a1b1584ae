"""The seed document's numpy BatchNorm, kept as an independent reference.

``seed_forward`` / ``seed_backward`` follow the seed's staged code step by step (for (N, D)
input). ``closed_form_backward`` is the one-line closed form. Neither uses minigrad.
"""

from __future__ import annotations

import numpy as np


def seed_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                 eps: float) -> tuple[np.ndarray, tuple]:
    """The seed's forward: out = gamma * (x - mu) / sqrt(var + eps) + beta, staged."""
    n = x.shape[0]
    mu = 1.0 / n * np.sum(x, axis=0)                 # step 1
    xmu = x - mu                                     # step 2
    sq = xmu**2                                      # step 3
    var = 1.0 / n * np.sum(sq, axis=0)
    sqrtvar = np.sqrt(var + eps)                     # step 4
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar                                # step 5
    gammax = gamma * xhat                            # step 6
    out = gammax + beta
    return out, (xhat, gamma, xmu, ivar, sqrtvar, var, eps)


def seed_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seed's backward, steps 9 down to 0. Returns (dx, dgamma, dbeta)."""
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    n, d = dout.shape
    dbeta = np.sum(dout, axis=0)                     # step 9
    dgammax = dout
    dgamma = np.sum(dgammax * xhat, axis=0)          # step 8
    dxhat = dgammax * gamma
    divar = np.sum(dxhat * xmu, axis=0)              # step 7
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar**2) * divar           # step 6
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar  # step 5
    dsq = 1.0 / n * np.ones((n, d), dout.dtype) * dvar  # step 4
    dxmu2 = 2 * xmu * dsq                            # step 3
    dx1 = dxmu1 + dxmu2                              # step 2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    dx2 = 1.0 / n * np.ones((n, d), dout.dtype) * dmu  # step 1
    dx = dx1 + dx2                                   # step 0
    return dx, dgamma, dbeta


def closed_form_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                         eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx = gamma*ivar/N * (N*dout - sum(dout) - xhat*sum(dout*xhat)); (dx, dgamma, dbeta)."""
    n = x.shape[0]
    mu = x.mean(axis=0)
    xmu = x - mu
    ivar = 1.0 / np.sqrt((xmu * xmu).mean(axis=0) + eps)
    xhat = xmu * ivar
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = gamma * ivar / n * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
