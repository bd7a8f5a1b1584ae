"""Guards: what a compiled entry assumed about the objects it reached outside its arguments.

A trace reads parameters, buffers and optimizer state through Python objects (a model held
in a global, a closure cell, an optimizer's list). The compiled entry reads those tensors
directly, so it stays valid only while the same objects are still reached the same way.
``build_guards`` walks from the roots the function can name (its globals, closure cells,
defaults, bound ``self``, non-tensor arguments) through modules, optimizers, plain objects,
lists, tuples and dicts (breadth first, bounded), keeps every edge on a path to something
the trace used, and turns it into one check:

* ``("global", scope, name, obj)``   ``scope[name] is obj``
* ``("cell", cell, obj)``            ``cell.cell_contents is obj``
* ``("key", mapping, key, obj)``     ``mapping[key] is obj`` (an object's ``__dict__``, a dict)
* ``("len", list, n)``               ``len(list) == n`` for a list an item is read from, and
                                      for each dict and plain object's ``__dict__`` on a
                                      guarded path (an entry added: fn may iterate over it)
* ``("layout", module, names)``      the names of ``module``'s attributes and of its
                                      ``_modules`` / ``_parameters`` / ``_buffers`` tables, in
                                      order: a layer appended, removed or set where none was
                                      (``seq.append(m)``, ``m.extra = ...``) retraces
* ``("item", list, k, obj)``         ``list[k] is obj``
* ``("value", mapping, key, v)``     ``mapping[key] == v`` for a Python scalar (int, float,
                                      bool, str, None, tuples of them) read as a constant:
                                      every such attribute of each object on a guarded path
                                      and of each object fn names directly (``Dropout.p``,
                                      ``SGD.momentum``, ``BatchNorm.eps``, ``cfg.scale``), and
                                      every scalar global or closure variable fn names
* ``("cell_value", cell, v)``         ``cell.cell_contents == v`` (a scalar closure variable)
* ``("array", array, copy)``          ``array`` still has its shape, dtype and bits: every numeric
                                      numpy array within NEAR edges of what fn names (and
                                      arrays fn names as class or module attributes): fn may
                                      read it through numpy (``x * W``, ``mg.tensor(W)``,
                                      ``W.sum()``), which the trace bakes in. An array of
                                      more than ``MAX_ARRAY`` elements is refused instead
* ``("training", module, flag)``     ``module.training == flag``: every module whose forward
                                      ran in the trace and every module reached on the way
* ``("requires_grad", tensor, flag)`` for every tensor read or written outside the arguments
* ``("defaults", f, values)``        ``bound_values(f)`` still equal ``values`` (numbers by value
                                      and type, other objects by identity): the defaults of
                                      fn's function and the bound arguments of a partial,
                                      which a trace bakes in like any number fn reads
* ``("argument", k, tensor)``        ``tensors[k] is tensor`` for an argument that was also
                                      reached as state when traced (``f(model.weight)``)

A module's ``_parameters`` / ``_buffers`` / ``_modules`` tables are not walked: ``Module``'s
``__setattr__`` keeps them equal to its attributes, which are. The checks reading a module's
attributes and training flag run only when its ``_version`` (counted by ``__setattr__``,
``__delattr__`` and ``train``) moved since they last held (``check_lines``). Tensors
reached only through objects the walk does not enter (a C extension, a generator) are still
checked for shape, dtype and ``requires_grad``, not identity (docs/jit.md §1).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from .ir import NotCompilableError

MAX_OBJECTS = 20000  # objects the walk visits at most (a bound, not a guess at sizes)
NEAR = 3  # edges from what fn names within which every container of numbers is guarded
MAX_ARRAY = 1 << 16  # elements of a numpy array fn reaches that is compared at every call
SKIP_TABLES = frozenset({"_parameters", "_buffers", "_modules"})
OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
          types.MethodType, types.CodeType, str, bytes, int, float, complex, bool,
          type(None), range, slice)

Check = tuple  # see the module docstring


def _code_names(fn: Any) -> set[str]:
    """Global names fn's code and the code nested in it (lambdas, comprehensions) use."""
    names: set[str] = set()
    stack = [getattr(fn, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        names.update(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


def roots(fn: Any, fixed: Iterable[Any]) -> list[tuple[Check | None, Any]]:
    """(the check that reaches it, or None for an object fixed for the entry, object)."""
    roots: list[tuple[Check | None, Any]] = [(None, obj) for obj in (fn, *fixed)]
    while isinstance(fn, functools.partial):  # its bound arguments are fixed roots
        roots += [(None, obj) for obj in (*fn.args, *fn.keywords.values())]
        fn = fn.func
        roots.append((None, fn))
    if getattr(fn, "__self__", None) is not None:
        roots.append((None, fn.__self__))
    target = _target(fn)
    roots += [(None, d) for d in getattr(target, "__defaults__", None) or ()]
    roots += [(None, d) for d in (getattr(target, "__kwdefaults__", None) or {}).values()]
    for cell in getattr(target, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        kind = "cell_value" if _scalar(contents) else "cell"
        roots.append(((kind, cell, contents), contents))
    scope = getattr(target, "__globals__", {})
    for name in sorted(_code_names(target)):
        if name in scope:
            kind = "value" if _scalar(scope[name]) else "global"
            roots.append(((kind, scope, name, scope[name]), scope[name]))
    return roots


def _target(fn: Any) -> Any:
    """The function whose code fn runs (partials unwrapped): a bound method's function, a
    module's forward, a callable object's __call__."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if isinstance(fn, Module):
        return getattr(type(fn), "forward", None)
    if not isinstance(fn, types.FunctionType | types.MethodType) and callable(fn):
        return type(fn).__call__  # a callable object: the names its method uses
    return getattr(fn, "__func__", fn)  # a bound method: self is fixed, walk its function


def _scalar(value: Any) -> bool:
    """A Python constant a trace bakes into the code (tuples of them included), numpy's
    scalars too (``np.float64(2.0)``, ``np.float32`` attributes)."""
    if type(value) is tuple:
        return all(_scalar(v) for v in value)
    return type(value) in (int, float, bool, str, complex, type(None)) or (
        isinstance(value, np.generic) and value.dtype.kind in "biufc")


def _scalar_checks(obj: Any, names: set[str] = frozenset()) -> list[Check]:
    """``("value", m.__dict__, name, v)`` for each scalar attribute of a module ``m``
    (checked when its version moves); for a class or a Python module fn names (``C.k``,
    ``config.LR``), each scalar attribute whose name fn's code uses (``names``); other
    objects get one ``contents`` check."""
    if isinstance(obj, type | types.ModuleType):
        table = vars(obj)  # a class's is a read-only view, read afresh at every call
        return [("value", table, k, table[k]) for k in sorted(names)
                if k in table and _scalar(table[k])]
    if not isinstance(obj, Module):
        return []
    return [("value", obj.__dict__, k, v) for k, v in obj.__dict__.items()
            if k not in ("training", "_version") and _plain_key(k) and _scalar(v)]


def _named_attributes(objects: dict[int, Any], depth: dict[int, int], names: set[str]
                      ) -> list[Check]:
    """``("value", obj.__dict__, k, v)`` for each scalar attribute, of a plain object more
    than NEAR edges away, whose name fn's code uses (``cfg.a.b.c.d.scale``: ``scale``). Nearer
    containers are guarded whole (``_contents_check``)."""
    checks: list[Check] = []
    for k, obj in objects.items():
        attrs = getattr(obj, "__dict__", None)
        if depth[k] <= NEAR or not isinstance(attrs, dict) or isinstance(obj, Module | Tensor):
            continue
        checks += [("value", attrs, key, attrs[key]) for key in sorted(names & attrs.keys())
                   if _scalar(attrs[key])]
    return checks


def _contents_check(obj: Any) -> Check | None:
    """``("contents", container, copy)`` when ``obj`` (a dict, a list, or a plain object's
    ``__dict__``) holds a Python number the trace may have read: the whole container must
    stay equal to its copy (one comparison in C, each item by identity first)."""
    if isinstance(obj, (Module, Tensor, *OPAQUE)) or hasattr(type(obj), "__array__"):
        return None
    container = obj if isinstance(obj, dict | list) else getattr(obj, "__dict__", None)
    if not isinstance(container, dict | list):
        return None
    items = container.values() if isinstance(container, dict) else container
    if not any(_scalar(v) for v in items):
        return None
    return ("contents", container, type(container)(container))


def _near_holders(objects: dict[int, Any], depth: dict[int, int]) -> dict[int, Check | None]:
    """Containers of numbers within NEAR edges (their ``contents`` check) and numeric numpy
    arrays there (None: checked by ``_array_checks``); the paths to all are guarded."""
    holders: dict[int, Check | None] = {}
    for k, obj in objects.items():
        if depth[k] <= NEAR:
            if _numeric_array(obj):
                holders[k] = None
            elif (check := _contents_check(obj)) is not None:
                holders[k] = check
    return holders


def _numeric_array(obj: Any) -> bool:
    return type(obj) is np.ndarray and obj.dtype.kind in "biuf"


def _array_checks(objects: dict[int, Any], depth: dict[int, int],
                  parents: dict[int, list[tuple[Check | None, int]]],
                  named: list[Any], names: set[str]) -> list[Check]:
    """``("array", a, copy)`` for each numeric numpy array within NEAR edges of what fn
    names, and each one fn names as an attribute of a class or Python module (``C.W``).
    Refused when one holds more than ``MAX_ARRAY`` elements: comparing it would cost more
    than the call, and not comparing it could run on a value the trace baked in."""
    found = {k: obj for k, obj in objects.items() if depth[k] <= NEAR and _numeric_array(obj)}
    where = {k: _edge_name(parents, k) for k in found}
    for obj in named:
        if isinstance(obj, type | types.ModuleType):
            table = vars(obj)
            for name in sorted(names & table.keys()):
                if _numeric_array(table[name]):
                    found[id(table[name])] = table[name]
                    where[id(table[name])] = f"attribute {name!r} of {obj.__name__}"
    for k, array in found.items():
        if array.size > MAX_ARRAY:
            raise NotCompilableError(
                f"the function can reach a numpy array of shape {array.shape} ({where[k]}), "
                f"more than {MAX_ARRAY} elements: mg.jit would bake in what fn reads from "
                "it through numpy and could only notice an in-place change by comparing "
                "it at every call. Make it a Tensor outside fn (mg.from_numpy(a): read at "
                "call time) or pass it as an argument")
    return [("array", array, array.copy()) for array in found.values()]


def _edge_name(parents: dict[int, list[tuple[Check | None, int]]], k: int) -> str:
    """How an object is reached, for a message: the name or key of its first edge."""
    for check, _ in parents.get(k, ()):
        if check is not None and check[0] in ("global", "key"):
            return f"{'global' if check[0] == 'global' else 'key or attribute'} {check[2]!r}"
        if check is not None and check[0] == "cell":
            return "a closure variable"
        if check is not None and check[0] == "item":
            return f"item {check[2]} of a list"
    return "a default or fixed argument"


def same_array(now: Any, then: np.ndarray) -> bool:
    """``now`` is an array of ``then``'s shape and dtype with the same bits (NaN equal to
    itself, -0.0 not equal to 0.0): the test of an ``("array", ...)`` guard."""
    if type(now) is not np.ndarray or now.shape != then.shape or now.dtype != then.dtype:
        return False
    if now.flags.c_contiguous and now.ndim:
        return bool(np.array_equal(now.reshape(-1).view(np.uint8),
                                   then.reshape(-1).view(np.uint8)))
    return now.tobytes() == then.tobytes()


def _children(obj: Any) -> Iterable[tuple[Callable[[Any], Check], Any]]:
    """(a function making the check of the edge, child) for each object ``obj`` holds."""
    if isinstance(obj, (Tensor, *OPAQUE)) or hasattr(type(obj), "__array__"):
        return ()
    if type(obj) is tuple:  # immutable: its items are fixed once the tuple is
        return [(None, item) for item in obj]
    if isinstance(obj, list):
        return [(lambda child, k=k: ("item", obj, k, child), item)
                for k, item in enumerate(obj)]
    if isinstance(obj, dict):
        return [(lambda child, k=k: ("key", obj, k, child), value)
                for k, value in obj.items() if _plain_key(k)]
    attrs = getattr(obj, "__dict__", None)
    if not isinstance(attrs, dict):
        return ()
    skip = SKIP_TABLES if isinstance(obj, Module) else ()
    return [(lambda child, k=k: ("key", attrs, k, child), value)
            for k, value in attrs.items() if k not in skip and _plain_key(k)]


def _plain_key(key: Any) -> bool:
    """Keys whose lookup runs no user code (str, int, bool, None, tuples of them)."""
    if isinstance(key, tuple):
        return all(_plain_key(k) for k in key)
    return type(key) in (str, int, bool, type(None))


def build_guards(fn: Any, fixed: Iterable[Any], used: Iterable[Tensor],
                 modules: Iterable[Module], existing: set[int],
                 args: Iterable[Tensor] = ()) -> list[Check]:
    """The checks that keep an entry valid (see the module docstring).

    ``used``: the tensors the trace read or wrote outside the arguments; ``modules``: the
    modules whose forward ran during the trace; ``existing``: ids of the tensors that
    existed before it. Every module reached on a path to one of those also has its
    training flag checked; ``requires_grad`` is checked for used tensors that existed
    before the trace or are reached (not for constants made and dropped by the trace).
    """
    used = list(used)
    wanted = {id(t) for t in used} | {id(m) for m in modules}
    root_edges = roots(fn, fixed)
    objects, depth, parents = _walk([obj for _, obj in root_edges])
    reached_args = [(k, t) for k, t in enumerate(args) if id(t) in objects]  # state too
    # Numbers fn may read through what it names (cfg.sub.scale, CONFIG["lr"], xs[0]): the
    # containers holding them within NEAR edges, and the path to each, are guarded too.
    holders = _near_holders(objects, depth)
    relevant = _relevant(wanted | {id(t) for _, t in reached_args} | set(holders), parents)
    holders.update((k, check) for k in relevant if k not in holders and k in objects
                   and (check := _contents_check(objects[k])) is not None)
    holders = {k: check for k, check in holders.items() if check is not None}
    checks: list[Check] = []
    named = []  # objects fn names directly: their scalar attributes are guarded too
    for check, obj in root_edges:
        if check is not None and (id(obj) in relevant or check[0] in ("value", "cell_value")):
            checks.append(check)
        named.append(obj)
    lists_read: dict[int, list] = {}
    for child_id, edges in parents.items():
        if child_id not in relevant:
            continue
        for check, _ in edges:
            if check is None:
                continue
            if check[0] == "item":
                lists_read[id(check[1])] = check[1]
            checks.append(check)
    checks = [("len", lst, len(lst)) for lst in lists_read.values()] + checks
    names = _code_names(_target(fn))
    for obj in [*named, *(objects[k] for k in relevant if k in objects)]:
        checks += _scalar_checks(obj, names)
    checks += _named_attributes(objects, depth, names)
    checks += list(holders.values())
    edges = {**parents, **{id(obj): [(c, -1)] for c, obj in root_edges if c is not None}}
    checks += _array_checks(objects, depth, edges, [*named, *objects.values()], names)
    seen_modules = {id(m): m for m in modules}
    seen_modules.update((k, objects[k]) for k in relevant if isinstance(objects.get(k), Module))
    checks += [("training", m, m.training) for m in seen_modules.values()]
    checks += [("layout", m, layout(m)) for m in seen_modules.values()]
    checks += _size_checks(objects[k] for k in relevant if k in objects)
    checks += [("requires_grad", t, t.requires_grad) for t in {id(t): t for t in used}.values()
               if id(t) in existing or id(t) in objects]
    # An argument that was also reached as state (f(model.weight)): the trace read both as
    # one value, so it must stay that tensor.
    checks += [("argument", k, t) for k, t in reached_args]
    checks += _defaults_checks(fn)
    return _dedupe(checks)


def reachable_tensors(fn: Any, fixed: Iterable[Any]) -> set[int]:
    """Ids of the tensors the guard walk reaches from what fn names: a one-element tensor
    made while tracing and kept there (``self.scale = mg.tensor(2.0)`` on a first call) can
    be changed in place between calls, so it is read at call time, never a literal."""
    objects, _, _ = _walk([obj for _, obj in roots(fn, fixed)])
    return {k for k, obj in objects.items() if isinstance(obj, Tensor)}


def bound_values(fn: Any) -> tuple:
    """What a call of ``fn`` (a function or a ``functools.partial``) takes without being
    given it: a function's defaults and keyword defaults, a partial's bound arguments."""
    if isinstance(fn, functools.partial):
        args, keywords = fn.args, fn.keywords
    else:
        args = getattr(fn, "__defaults__", None) or ()
        keywords = getattr(fn, "__kwdefaults__", None) or {}
    return (*args, *(part for item in keywords.items() for part in item))


def same_values(now: tuple, then: tuple) -> bool:
    """The test of a ``("defaults", ...)`` check: each item the same object, or a number
    (or a tuple of them) equal to the traced one and of its type."""
    if len(now) != len(then):
        return False
    return all(a is b or (_scalar(b) and type(a) is type(b) and a == b)
               for a, b in zip(now, then, strict=True))


def _defaults_checks(fn: Any) -> list[Check]:
    """A ``("defaults", ...)`` check for each partial around fn and for its function
    (``f.__defaults__ = (5.0,)``, ``f.__kwdefaults__['shift'] = 3.0``, ``p.keywords[...]``)."""
    checks: list[Check] = []
    while isinstance(fn, functools.partial):
        checks.append(("defaults", fn, bound_values(fn)))
        fn = fn.func
    target = _target(fn)
    if bound_values(target):
        checks.append(("defaults", target, bound_values(target)))
    return checks


def layout(module: Module) -> tuple[tuple[str, ...], ...]:
    """The names of a module's attributes and of its three tables, in order (what a
    ``("layout", ...)`` check compares): a forward iterating ``_modules`` or asking
    ``hasattr`` sees a layer added, removed or moved."""
    tables = [module.__dict__, *(module.__dict__.get(t, {}) for t in sorted(SKIP_TABLES))]
    return tuple(tuple(table) for table in tables)


def _size_checks(objects: Iterable[Any]) -> list[Check]:
    """``("len", d, len(d))`` for each dict and plain object's ``__dict__`` on a guarded
    path whose contents are not compared whole: the other checks follow its entries on the
    path, not one added beside them (``blocks["b"] = layer`` to a dict fn iterates)."""
    checks: list[Check] = []
    for obj in objects:
        if isinstance(obj, (Module, Tensor, *OPAQUE)) or hasattr(type(obj), "__array__"):
            continue
        table = obj if isinstance(obj, dict) else getattr(obj, "__dict__", None)
        if isinstance(table, dict):
            checks.append(("len", table, len(table)))
    return checks


def _walk(starts: list[Any]) -> tuple[dict[int, Any], dict[int, int],
                                     dict[int, list[tuple[Check | None, int]]]]:
    """Breadth first from ``starts`` (at most MAX_OBJECTS objects): id -> object, id ->
    edges from the nearest start, child id -> [(the edge's check, parent id)]."""
    parents: dict[int, list[tuple[Check | None, int]]] = {}
    objects: dict[int, Any] = {}
    depth: dict[int, int] = {}
    queue: list[Any] = []
    for obj in starts:
        if id(obj) not in objects:
            objects[id(obj)], depth[id(obj)] = obj, 0
            queue.append(obj)
    head = 0
    while head < len(queue) and len(objects) < MAX_OBJECTS:
        obj = queue[head]
        head += 1
        for make_check, child in _children(obj):
            check = make_check(child) if make_check is not None else None
            parents.setdefault(id(child), []).append((check, id(obj)))
            if id(child) not in objects:
                objects[id(child)], depth[id(child)] = child, depth[id(obj)] + 1
                queue.append(child)
    return objects, depth, parents


def _relevant(wanted: set[int], parents: dict[int, list[tuple[Check | None, int]]]
              ) -> set[int]:
    """Every object on a path to a wanted one (wanted ones included), without recursion."""
    relevant = set(wanted)
    stack = list(wanted)
    while stack:
        child = stack.pop()
        for _, parent in parents.get(child, ()):
            if parent not in relevant:
                relevant.add(parent)
                stack.append(parent)
    return relevant


def _dedupe(checks: list[Check]) -> list[Check]:
    """Each check once, in order (checks compare by the identity of their objects)."""
    seen: set[tuple] = set()
    out = []
    for check in checks:
        key = tuple(id(part) if not isinstance(part, str | int | bool) else part
                    for part in check)
        if key not in seen:
            seen.add(key)
            out.append(check)
    return out


def check_lines(checks: list[Check], bind: Callable[[str, Any], str], first: int
                ) -> list[str]:
    """Generated lines (inside ``fast_call``, under a ``try`` that turns a lookup error
    into a miss) returning ``miss(first + k)`` when check ``k`` fails; objects and keys are
    bound names. A module's own checks (its attributes, its training flag) run only when
    its ``_version`` moved since they last held: one comparison per module per call."""
    owners = _module_owners(checks)
    by_module: dict[int, list[int]] = {}
    for k, owner in enumerate(owners):
        if owner is not None:
            by_module.setdefault(id(owner), []).append(k)
    lines = []
    for k, check in enumerate(checks):
        owner = owners[k]
        if owner is None:
            lines += _check_if(check, first + k, bind, "        ")
            continue
        group = by_module.pop(id(owner), None)
        if group is None:  # emitted with its module's first check
            continue
        module, seen = bind("m", owner), bind("ver", [-1])  # -1: not checked yet
        lines.append(f"        if {module}._version != {seen}[0]:")
        for j in group:
            lines += _check_if(checks[j], first + j, bind, "            ")
        lines.append(f"            {seen}[0] = {module}._version")
    return lines


def _module_owners(checks: list[Check]) -> list[Module | None]:
    """For each check, the module whose attribute (or training flag) it reads, if any."""
    modules = {id(c[1]): c[1] for c in checks if c[0] == "training"}
    tables = {id(m.__dict__): m for m in modules.values()}
    return [check[1] if check[0] in ("training", "layout")
            else tables.get(id(check[1])) if check[0] in ("key", "value") else None
            for check in checks]


def _check_if(check: Check, k: int, bind: Callable[[str, Any], str], indent: str
              ) -> list[str]:
    """``if <check fails>: return miss(k)`` at ``indent``."""
    kind = check[0]
    if kind in ("global", "key"):
        _, mapping, key, obj = check
        cond = f"{bind('g', mapping)}[{bind('k', key)}] is not {bind('o', obj)}"
    elif kind == "cell":
        cond = f"{bind('c', check[1])}.cell_contents is not {bind('o', check[2])}"
    elif kind == "value":
        _, mapping, key, value = check
        cond = _differs(f"{bind('g', mapping)}[{bind('k', key)}]", value, bind)
    elif kind == "cell_value":
        cond = _differs(f"{bind('c', check[1])}.cell_contents", check[2], bind)
    elif kind == "len":
        cond = f"len({bind('l', check[1])}) != {int(check[2])}"
    elif kind == "item":
        cond = f"{bind('l', check[1])}[{int(check[2])}] is not {bind('o', check[3])}"
    elif kind == "argument":
        cond = f"tensors[{int(check[1])}] is not {bind('o', check[2])}"
    elif kind == "contents":  # equal items of the same types (2 == 2.0, but not for dtypes)
        container, copy = bind("g", check[1]), bind("v", check[2])
        items = ".values()" if isinstance(check[1], dict) else ""
        types_then = bind("y", tuple(map(type, check[2].values() if items else check[2])))
        cond = f"{container} != {copy} or tuple(map(type, {container}{items})) != {types_then}"
    elif kind == "array":
        cond = f"not {bind('f', same_array)}({bind('a', check[1])}, {bind('v', check[2])})"
    elif kind == "training":
        cond = f"{bind('m', check[1])}.training != {bind('f', check[2])}"
    elif kind == "defaults":
        now = f"{bind('f', bound_values)}({bind('o', check[1])})"
        cond = f"not {bind('f', same_values)}({now}, {bind('v', check[2])})"
    elif kind == "layout":
        cond = f"{bind('f', layout)}({bind('m', check[1])}) != {bind('v', check[2])}"
    else:  # requires_grad
        cond = f"{bind('t', check[1])}.requires_grad != {bind('f', check[2])}"
    return [f"{indent}if {cond}:", f"{indent}    return miss({k})"]


def _differs(read: str, value: Any, bind: Callable[[str, Any], str]) -> str:
    """The condition ``read`` no longer equals ``value`` or has another type (2 and 2.0,
    np.float32(2) and 2.0 make other dtypes; NaN compared by identity)."""
    name = bind("v", value)
    if value != value:  # NaN  # noqa: PLR0124
        return f"{read} is not {name}"
    return f"(type({read}) is not {bind('y', type(value))} or {read} != {name})"


def describe(check: Check) -> str:
    """A human-readable reason for a failed check (MINIGRAD_DEBUG, ``fn.stats()``)."""
    kind = check[0]
    if kind == "global":
        return f"global {check[2]!r} was rebound"
    if kind == "cell":
        return "a closure variable was rebound"
    if kind == "value":
        return f"the value of {check[2]!r} changed (was {check[3]!r})"
    if kind == "cell_value":
        return f"a closure variable changed (was {check[2]!r})"
    if kind == "key":
        return f"attribute or key {check[2]!r} now holds another object"
    if kind in ("len", "item"):
        return f"a {type(check[1]).__name__} the trace read changed (an entry added or removed)"
    if kind == "defaults":
        return "a default or bound argument of the function changed"
    if kind == "layout":
        return (f"{type(check[1]).__name__}'s attributes or layers were added, removed or "
                "reordered")
    if kind == "contents":
        return (f"a number in a {type(check[1]).__name__} fn can reach changed, or what "
                "it holds (a copy made when traced is compared)")
    if kind == "array":
        return (f"a numpy array of shape {check[2].shape} fn can reach changed (a copy "
                "made when traced is compared)")
    if kind == "training":
        return f"{type(check[1]).__name__}.training changed (was {check[2]!r})"
    if kind == "argument":
        return f"argument {check[1]} was a tensor also reached as state when traced"
    return f"requires_grad of a tensor of shape {check[1].shape} changed (was {check[2]!r})"


def reason_of(check: Check) -> str:
    """The counter name of a failed check in ``fn.stats()['guard_failures']``."""
    return {"global": "identity", "cell": "identity", "key": "identity", "len": "identity",
            "item": "identity", "layout": "identity", "cell_value": "value",
            "contents": "value", "array": "value", "defaults": "value",
            "argument": "arguments"
            }.get(check[0], check[0])
