"""The failures of S3 Select and SQL jobs: one class per kind, with a message.

Which error code and HTTP status a client sees is the API's business: ``nuage.s3.errors`` maps these
classes to S3 errors (an error response or an error event), the query API to its JSON errors. A
failure crosses from a SQL worker process to the server by its class name (:func:`kind_of`)."""

from __future__ import annotations

from typing import Self


class SelectError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def reworded(self, message: str) -> Self:
        """The same failure with another message (a message without the worker's file names)."""
        return type(self)(message)


# -- the SQL text

class UnsupportedSyntax(SelectError):
    """SQL this dialect does not accept."""


class InvalidCharacter(SelectError):
    """A character no token starts with."""


class ExpressionTooLong(SelectError):
    """The SQL text is longer than allowed."""


class TooManyOperators(SelectError):
    """The expression is too deeply nested to parse."""


class UnsupportedStructure(SelectError):
    """A structure the translation cannot expand (an alias that refers to itself)."""


class UnknownColumn(SelectError):
    """A name that is neither a column nor an alias."""


class UnsupportedFunction(SelectError):
    """A function this dialect does not have."""


class WrongArguments(SelectError):
    """A function called with the wrong number or types of arguments."""


class IllegalArgument(SelectError):
    """A function argument of the right type but an unusable value."""


class UnknownDatePart(SelectError):
    """A date part EXTRACT, DATE_ADD or DATE_DIFF does not know."""


class BadTimestampPattern(SelectError):
    """A TO_STRING or TO_TIMESTAMP pattern that cannot be read."""


class BadLikeEscape(SelectError):
    """A LIKE ESCAPE that is not one character."""


class UnsupportedCastType(SelectError):
    """CAST to a type the dialect does not have."""


# -- the request's input and its data

class BadScanRange(SelectError):
    """A scan range that is not valid."""


class ScanRangeNotApplicable(SelectError):
    """A scan range on input it cannot cut (compressed, a JSON document)."""


class BadRequestParameter(SelectError):
    """A combination of input settings that cannot be honoured."""


class UnknownPath(SelectError):
    """A path into the input that the input does not have."""


class BadCompression(SelectError):
    """Input that is not in its declared compression format."""


class BadCSV(SelectError):
    """CSV input that cannot be parsed."""


class BadJSON(SelectError):
    """JSON input that cannot be parsed."""


class UnreadableInput(SelectError):
    """Input that cannot be read (not a Parquet file, a damaged stream)."""


# -- evaluation

class CastFailed(SelectError):
    """A value that cannot be converted to the type asked for."""


class ValueOutOfRange(SelectError):
    """A value outside the range of its type."""


class QueryFailed(SelectError):
    """Any other refusal of the query by the engine."""


class ReadRefused(SelectError):
    """The engine refused to read a file the query names."""


# -- limits and interruptions

class MemoryExceeded(SelectError):
    """The query needs more memory than its budget."""


class TimeExceeded(SelectError):
    """The query ran longer than allowed."""


class Cancelled(SelectError):
    """The query was cancelled."""


class ResultTooLarge(SelectError):
    """A SQL job's result is larger than its limit or the room left in the quota."""


class EngineFailure(SelectError):
    """An unexpected failure of the engine (a bug, not the query's fault)."""


def kinds() -> dict[str, type[SelectError]]:
    """Every failure class by name, its subclasses included (those of the query API too)."""
    found: dict[str, type[SelectError]] = {}
    pending: list[type[SelectError]] = [SelectError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def kind_of(name: str, message: str) -> SelectError:
    """The failure a worker process reported by class name (an unknown name is an engine failure)."""
    return kinds().get(name, EngineFailure)(message)
