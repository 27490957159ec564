"""Pytrees: nested tuples, lists and dicts (and registered types) whose leaves are arrays or numbers.

Transforms take and return pytrees, so a model's parameters can be a dict and a function may return a
tuple. ``flatten`` lists the leaves in a fixed order (dict keys sorted, as in JAX) with a ``TreeDef``
that ``unflatten`` uses to rebuild the same structure around new leaves:

>>> leaves, treedef = cm.tree.flatten({"w": np.ones(2), "b": (0.5, None)})
>>> leaves
[0.5, array([1., 1.])]
>>> cm.tree.unflatten(treedef, [1.0, 2.0])
{'b': (1.0, None), 'w': 2.0}

``None`` is an empty node (it has no leaves); a namedtuple or a dataclass instance is a node whose
children are its fields; anything else that is not a registered node is a leaf.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from calcml.autodiff.errors import StructureError

# type -> (children of a node and hashable context, rebuild from context and children)
NODE_TYPES: dict[type, tuple[Callable[[Any], tuple[list, Hashable]], Callable[[Hashable, list], Any]]] = {}


def register(cls: type, flatten_node: Callable[[Any], tuple[list, Hashable]],
             unflatten_node: Callable[[Hashable, list], Any]) -> None:
    """Make instances of ``cls`` pytree nodes: ``flatten_node(x) -> (children, context)`` and
    ``unflatten_node(context, children) -> x``.

    >>> class Params:
    ...     def __init__(self, w, b):
    ...         self.w, self.b = w, b
    >>> cm.tree.register(Params, lambda p: ([p.w, p.b], None), lambda _, c: Params(*c))
    >>> g = cm.grad(lambda p: p.w ** 2 + 3 * p.b)(Params(2.0, 1.0))    # the gradient is a Params too
    >>> float(g.w), float(g.b)
    (4.0, 3.0)
    """
    NODE_TYPES[cls] = (flatten_node, unflatten_node)


def register_dataclass(cls: type) -> type:
    """Register a dataclass as a node whose children are its fields, in order (usable as a decorator).

    Every dataclass is such a node without registering it; registering rebuilds it with its ``__init__``
    (so ``__post_init__`` runs on the gradient too) instead of setting the fields directly.
    """
    names = tuple(f.name for f in dataclasses.fields(cls))
    register(cls, lambda x: ([getattr(x, n) for n in names], names),
             lambda context, children: cls(**dict(zip(context, children))))
    return cls


def _dataclass_node(cls: type) -> tuple:
    """A dataclass as a node: its fields, in order; rebuilt field by field (frozen ones too), without
    calling ``__init__``, which may have fields it does not take or checks a gradient need not pass."""
    names = tuple(f.name for f in dataclasses.fields(cls))

    def rebuild(context: Hashable, children: list) -> Any:
        instance = object.__new__(cls)
        for name, child in zip(names, children):
            object.__setattr__(instance, name, child)
        return instance

    return (lambda x: ([getattr(x, n) for n in names], names), rebuild)


register(tuple, lambda x: (list(x), None), lambda _, children: tuple(children))
register(list, lambda x: (list(x), None), lambda _, children: list(children))
register(dict, lambda x: ([x[k] for k in sorted(x)], tuple(sorted(x))),
         lambda keys, children: dict(zip(keys, children)))
register(type(None), lambda x: ([], None), lambda _, children: None)


def _node_of(tree: Any) -> tuple | None:
    entry = NODE_TYPES.get(type(tree))
    if entry is None:
        if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a namedtuple
            cls = type(tree)
            entry = (lambda x: (list(x), None), lambda _, children, cls=cls: cls(*children))
        elif dataclasses.is_dataclass(tree) and not isinstance(tree, type):
            entry = _dataclass_node(type(tree))
    return entry


@dataclass(frozen=True)
class TreeDef:
    """The shape of a pytree without its leaves: a node's type and context, and its children's TreeDefs.
    A leaf is ``TreeDef(None, None, ())``."""

    node_type: type | None
    context: Hashable
    children: tuple[TreeDef, ...]

    @property
    def num_leaves(self) -> int:
        if self.node_type is None:
            return 1
        return sum(child.num_leaves for child in self.children)

    @property
    def is_leaf(self) -> bool:
        return self.node_type is None

    def __repr__(self) -> str:
        if self.node_type is None:
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        name = self.node_type.__name__
        if self.node_type is dict:
            return "{" + ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.context, self.children)) + "}"
        return f"{name}({inner})"


LEAF = TreeDef(None, None, ())


def flatten(tree: Any) -> tuple[list, TreeDef]:
    """The leaves of ``tree`` in order, and its TreeDef."""
    leaves: list = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree: Any, leaves: list) -> TreeDef:
    node = _node_of(tree)
    if node is None:
        leaves.append(tree)
        return LEAF
    children, context = node[0](tree)
    return TreeDef(type(tree), context, tuple(_flatten_into(c, leaves) for c in children))


def unflatten(treedef: TreeDef, leaves: Iterable) -> Any:
    """Rebuild a pytree of structure ``treedef`` around ``leaves`` (consumed in order)."""
    iterator = iter(leaves)
    tree = _unflatten_from(treedef, iterator)
    if next(iterator, _END) is not _END:
        raise ValueError(f"unflatten: more leaves than the structure {treedef!r} holds "
                         f"({treedef.num_leaves}).")
    return tree


_END = object()


def _unflatten_from(treedef: TreeDef, iterator: Any) -> Any:
    if treedef.node_type is None:
        leaf = next(iterator, _END)
        if leaf is _END:
            raise ValueError("unflatten: fewer leaves than the structure holds.")
        return leaf
    children = [_unflatten_from(c, iterator) for c in treedef.children]
    node = _node_of_type(treedef.node_type)
    return node[1](treedef.context, children)


def _node_of_type(node_type: type) -> tuple:
    entry = NODE_TYPES.get(node_type)
    if entry is None:
        if dataclasses.is_dataclass(node_type):
            return _dataclass_node(node_type)
        entry = (None, lambda _, children: node_type(*children))  # a namedtuple
    return entry


def leaves(tree: Any) -> list:
    """The leaves of ``tree``, in ``flatten``'s order."""
    return flatten(tree)[0]


def map(f: Callable, tree: Any, *rest: Any) -> Any:  # noqa: A001  (the name users expect: cm.tree.map)
    """``f`` applied leaf by leaf; ``rest`` are trees of the same structure whose leaves are passed along.

    >>> cm.tree.map(lambda a, b: a + b, {"w": 1.0}, {"w": 2.0})
    {'w': 3.0}
    """
    flat, treedef = flatten(tree)
    others = [structured_leaves(other, treedef, "cm.tree.map") for other in rest]
    return unflatten(treedef, builtins.map(f, flat, *others))


def structured_leaves(tree: Any, treedef: TreeDef, where: str) -> list:
    """The leaves of ``tree``, which must have structure ``treedef``; else a clear error naming both."""
    flat, other = flatten(tree)
    if other != treedef:
        raise StructureError(f"{where}: expected a pytree of structure {treedef!r}, got {other!r}.\n"
                             "  give one array per leaf, in the same nesting of tuples, lists and dicts.")
    return flat
