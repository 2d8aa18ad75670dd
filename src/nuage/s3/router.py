"""Request to operation: the rows of :data:`nuage.s3.operations.OPERATIONS`, first match wins."""

from __future__ import annotations

from nuage.s3.operation import Operation, Target
from nuage.s3.operations import OPERATIONS

__all__ = ["Target", "route"]


def _by_method_and_target(rows: tuple[Operation, ...]) -> dict[tuple[str, Target], tuple[Operation, ...]]:
    """The table split by (method, target), each part keeping the table's order (first match wins)."""
    parts: dict[tuple[str, Target], list[Operation]] = {}
    for op in rows:
        parts.setdefault((op.method, op.target), []).append(op)
    return {k: tuple(v) for k, v in parts.items()}


_PARTS = _by_method_and_target(OPERATIONS)


def route(method: str, target: Target, query: dict[str, str], headers: dict[str, str]) -> Operation | None:
    """The operation's row, or None when no row matches (the caller answers MethodNotAllowed)."""
    for op in _PARTS.get((method, target), ()):
        # the row's query parameter and header must be present (an object GET tries about ten rows)
        if (op.query is None or op.query in query) and (op.header is None or op.header in headers):
            return op
    return None
