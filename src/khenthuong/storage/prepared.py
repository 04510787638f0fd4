"""Statements compiled once per dialect and run on the driver's own cursor.

For the few statements of a workflow step, which run thousands of times with the same
shape: SQLAlchemy's `Connection.execute` costs more per call than the statement itself
(looking the compiled form up, building the execution context and the result), about as
much again as the rest of the step's Python (BENCHMARKS.md, "Steps against the peers").
A `Prepared` statement is a Core construct, compiled for the connection's dialect the first
time, with its parameters' type conversions looked up once; each call converts the values
and hands the SQL to the driver inside the connection's transaction. Driver errors are raised
as SQLAlchemy's (`IntegrityError`, `OperationalError` …), as `execute` raises them.

On psycopg the statement is compiled once to PostgreSQL's own `$1, $2 …` placeholders and
run on the driver's raw cursor, which sends it as it is: a normal cursor rewrites the
`%(name)s` form at every call, and caches that rewrite only for statements under 4,096
characters and 50 parameters (the queue's keys are a UNION of up to 32 branches, 7-18 KB:
0.9 ms of Python a request on a 2-core VM).

What it does not do: `before_cursor_execute` listeners and `echo` do not see these
statements, and there is no executemany (batches keep `Connection.execute`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Form:
    """A statement compiled for one dialect."""

    sql: str
    names: tuple[str, ...]
    """Bind parameter names, in order for a positional driver (SQLite's `?`)."""
    positional: bool
    converts: tuple[tuple[str, Convert], ...]
    """(parameter, conversion) for the parameters whose type converts values (SQLite's
    DateTime is stored as text, for one)."""
    results: tuple[Convert | None, ...]
    """Per result column, its type's conversion of what the driver returns (or None)."""
    binds: tuple[tuple[str, Convert | None], ...]
    """`names` with each one's conversion (None: the value as it is)."""
    converted: tuple[tuple[int, Convert], ...]
    """(position, conversion) of the result columns that have one."""
    defaults: Mapping[str, Any] | None = None
    """Values of the parameters the statement fills itself (SQLite's `OFFSET` of a limited
    subquery, a literal compared), for when the caller does not give them."""
    cursor: Callable[[Any], Any] | None = None
    """The driver's cursor class for `sql` (psycopg's raw cursor for `$n` placeholders), or
    None for the connection's own `cursor()`."""

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """A row the driver gave, its values converted by the result columns' types."""
        if not self.converted:
            return tuple(values)
        out = list(values)
        for i, convert in self.converted:
            if out[i] is not None:
                out[i] = convert(out[i])
        return tuple(out)

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """The driver's arguments for `params` (by bind name), converted."""
        if self.positional:
            return [params[n] if c is None else c(params[n]) for n, c in self.binds]
        values = dict(params)
        for name, convert in self.converts:
            values[name] = convert(values[name])
        return values


class Prepared:
    """A Core statement run on the driver's cursor (see the module's docstring).

    `keys`: for an INSERT, the columns its parameter dictionaries carry (compiled into
    the statement's column list, as `execute` does from the first parameter set).
    """

    __slots__ = ("_forms", "_last", "keys", "statement")

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._forms: dict[tuple[str, str], _Form] = {}
        self._last: tuple[Dialect, _Form] | None = None
        """The dialect last asked for and its form: one identity check per call."""

    def _form(self, dialect: Dialect) -> _Form:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        key = (dialect.name, dialect.paramstyle)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = _compile(self.statement, dialect, self.keys)
        self._last = (dialect, form)
        return form

    def _execute(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Form]:
        form = self._form(conn.dialect)
        args = form.arguments(params if form.defaults is None else {**form.defaults, **params})
        if not conn.in_transaction():
            conn.begin()  # as `execute` would: never outside a transaction
        driver: Any = conn.connection.driver_connection
        cursor = driver.cursor() if form.cursor is None else form.cursor(driver)
        dbapi = conn.dialect.loaded_dbapi
        try:
            cursor.execute(form.sql, args)
        except dbapi.Error as error:
            cursor.close()
            raise exc.DBAPIError.instance(
                form.sql, args, error, dbapi.Error, dialect=conn.dialect
            ) from error
        return cursor, form

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute with `params` (by bind name) in the connection's transaction; the number
        of rows it changed."""
        cursor, _form = self._execute(conn, params)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, its values converted by the result columns' types (None: no row)."""
        cursor, form = self._execute(conn, params)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else form.row(row)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, its values converted by the result columns' types."""
        cursor, form = self._execute(conn, params)
        rows = cursor.fetchall()
        cursor.close()
        return [form.row(row) for row in rows]


_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """A `%(name)s` statement with PostgreSQL's `$n` placeholders instead, and the names in
    their numbers' order (a name used twice keeps its number; `%%` is a literal `%`)."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    return _PYFORMAT.sub(number, sql), tuple(names)


def _compile(statement: ClauseElement, dialect: Dialect, keys: list[str] | None) -> _Form:
    compiled: Any = statement.compile(dialect=dialect, column_keys=keys)
    sql, cursor = compiled.string, None
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
    if dialect.driver == "psycopg" and not positional:
        from psycopg import RawCursor  # noqa: PLC0415 (PostgreSQL only)

        sql, names = numbered(sql)
        positional, cursor = True, RawCursor
    converts = []
    for name in dict.fromkeys(names):
        convert = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converts.append((name, convert))
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in getattr(statement, "exported_columns", ())
    )
    by_name = dict(converts)
    binds = tuple((name, by_name.get(name)) for name in names)
    converted = tuple((i, c) for i, c in enumerate(results) if c is not None)
    defaults = {
        name: bind.effective_value
        for name, bind in compiled.binds.items()
        if not bind.required and bind.callable is None
    }
    return _Form(
        sql, names, positional, tuple(converts), results, binds, converted,
        defaults or None, cursor,
    )  # fmt: skip
