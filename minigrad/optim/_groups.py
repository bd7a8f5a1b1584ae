"""Parameter groups and per-parameter state, laid out for PyTorch users and for ``mg.jit``.

``ParamGroup`` is the dict in ``opt.param_groups``. The numbers a schedule changes every
step ('lr', 'momentum', 'betas') live in 0-d float64 tensors: ``group['lr'] = x`` writes the
group's lr tensor, and reading ``group['lr']`` gives a float back. A jitted step reads that
tensor at call time, so a new lr needs no retrace and is never stale. Every other option
(``weight_decay``, ``nesterov``, ...) is a plain Python value, baked into a trace and guarded
by value (docs/jit.md §1): changing it retraces.

How the guard sees a group: ``mg.jit`` keeps a shallow copy of every dict of numbers near
the function and compares it with ``==``. A live entry is stored as ``_Live`` (the tensor
and, for 'momentum', its sign): equal only to itself, so the comparison holds while values
change inside the tensor, and fails when the step's structure would change (``momentum``
crossing 0: SGD branches on ``momentum != 0``, RMSprop on ``momentum > 0``) or the tensor
is replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError
from ..tensor import Tensor, read_values

LIVE_KEYS = frozenset({"lr", "momentum", "betas"})
BRANCHED_ON = frozenset({"momentum"})  # live keys whose zeroness changes a step's ops


class _Live:
    """A live option's storage: its tensor and, for keys in BRANCHED_ON, the value's sign
    (-1, 0, 1, or 'nan'), every comparison with 0 a step may branch on (momentum buffers
    exist only for SGD's nonzero and RMSprop's positive momentum); 0 for the others (an lr
    reaching 0 changes no op)."""

    __slots__ = ("sign", "tensor")

    def __init__(self, tensor: Tensor, sign: int | str) -> None:
        self.tensor = tensor
        self.sign = sign

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _Live) and other.tensor is self.tensor
                and other.sign == self.sign)

    def __hash__(self) -> int:
        return hash((id(self.tensor), self.sign))

    @property
    def value(self) -> float:
        """The number, read as ``item()`` reads (mg.jit refuses it while tracing: the
        float would be frozen in the compiled step while the tensor changes)."""
        return float(read_values(self.tensor))


def _number(key: str, value: Any) -> float:
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.size != 1 or array.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"param group option {key!r} must be one real number, got "
                                f"{value!r}")
    return float(array.reshape(()))


def _public(value: Any) -> Any:
    """What a user reads for a stored value: floats for live entries."""
    if isinstance(value, _Live):
        return value.value
    if type(value) is tuple and value and all(isinstance(v, _Live) for v in value):
        return tuple(v.value for v in value)
    return value


class ParamGroup(dict):
    """A parameter group: 'params' (a list of tensors) and the optimizer's options.

    Behaves as a dict of plain values; 'lr', 'momentum' and 'betas' are kept in 0-d
    float64 tensors (see the module docstring). ``ParamGroup(other_group)`` copies the
    storage (sharing the tensors); ``ParamGroup.build(options)`` makes a new group.
    """

    @classmethod
    def build(cls, options: Mapping[str, Any]) -> ParamGroup:
        """A group holding ``options``, with new tensors for its live entries."""
        group = cls()
        for key, value in options.items():
            group[key] = value
        return group

    def __getitem__(self, key: str) -> Any:
        return _public(dict.__getitem__(self, key))

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in LIVE_KEYS:
            dict.__setitem__(self, key, value)
        elif key == "betas":
            dict.__setitem__(self, key, self._live_tuple(key, value))
        else:
            old = dict.get(self, key)
            dict.__setitem__(self, key, _write(old, key, value))

    def _live_tuple(self, key: str, values: Any) -> tuple[_Live, ...]:
        values = tuple(values)
        old = dict.get(self, key)
        if not (type(old) is tuple and len(old) == len(values)):
            old = (None,) * len(values)
        pairs = enumerate(zip(old, values, strict=True))
        return tuple(_write(o, f"{key}[{k}]", v) for k, (o, v) in pairs)

    def tensor(self, key: str, index: int | None = None) -> Tensor:
        """The 0-d float64 tensor holding live option ``key`` (``betas[index]``)."""
        stored = dict.__getitem__(self, key)
        return (stored if index is None else stored[index]).tensor

    def number(self, key: str) -> float:
        """Live option ``key``'s current number for a step's own branch on it (momentum on
        or off), read without telling mg.jit: the group's guard retraces when the branch
        would change (``_Live.sign``). A user's ``group[key]`` is refused while tracing."""
        return float(dict.__getitem__(self, key).tensor.data)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        return _public(dict.pop(self, key, *default))

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(key, self[key]) for key in self]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[key] for key in self]

    def copy(self) -> dict[str, Any]:  # type: ignore[override]
        """A plain dict of the current values (floats for the live entries)."""
        return dict(self.items())

    def __repr__(self) -> str:
        return repr(self.copy())

    def __reduce_ex__(self, protocol: Any) -> Any:  # copy.deepcopy: new tensors
        return (ParamGroup.build, (self.copy(),))


def _write(old: Any, key: str, value: Any) -> _Live:
    """Write ``value`` into ``old``'s tensor (a new tensor when there is none)."""
    number = _number(key, value)
    sign = _sign(number) if key.split("[", maxsplit=1)[0] in BRANCHED_ON else 0
    if isinstance(old, _Live):
        old.tensor.assign_(np.array(number))
        return old if old.sign == sign else _Live(old.tensor, sign)
    name = key.split("[", maxsplit=1)[0]
    return _Live(Tensor(np.array(number, np.float64), name=name), sign)


def _sign(number: float) -> int | str:
    """-1, 0 or 1, or 'nan': what any comparison of ``number`` with 0 depends on."""
    if np.isnan(number):
        return "nan"
    return (number > 0) - (number < 0)


class ParamState(MutableMapping):
    """``opt.state``: each parameter's state dict, keyed by the parameter (PyTorch's
    ``defaultdict(dict)``: reading a missing parameter makes its empty dict).

    Kept as two parallel lists (parameters, dicts) so ``mg.jit``'s guard walk reaches every
    state tensor and checks its identity.
    """

    def __init__(self) -> None:
        self._params: list[Tensor] = []
        self._slots: list[dict[str, Any]] = []

    def _find(self, param: Tensor) -> int:
        for k, known in enumerate(self._params):
            if known is param:
                return k
        return -1

    def __getitem__(self, param: Tensor) -> dict[str, Any]:
        k = self._find(param)
        if k < 0:
            self._params.append(param)
            self._slots.append({})
            return self._slots[-1]
        return self._slots[k]

    def __setitem__(self, param: Tensor, slot: dict[str, Any]) -> None:
        k = self._find(param)
        if k < 0:
            self._params.append(param)
            self._slots.append(slot)
        else:
            self._slots[k] = slot

    def __delitem__(self, param: Tensor) -> None:
        k = self._find(param)
        if k < 0:
            raise KeyError(f"no state for a parameter of shape {param.shape}")
        del self._params[k], self._slots[k]

    def get(self, param: Tensor, default: Any = None) -> Any:  # type: ignore[override]
        k = self._find(param)
        return default if k < 0 else self._slots[k]

    def __contains__(self, param: object) -> bool:
        return isinstance(param, Tensor) and self._find(param) >= 0

    def __iter__(self) -> Iterator[Tensor]:
        return iter(list(self._params))

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"ParamState({len(self)} parameters with state)"

    def clear(self) -> None:
        self._params.clear()
        self._slots.clear()


def flat_params(groups: Iterable[Mapping[str, Any]]) -> list[Tensor]:
    """Every group's parameters, in order (PyTorch's positions in ``state_dict``)."""
    return [p for group in groups for p in group["params"]]
