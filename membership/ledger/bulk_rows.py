"""Ledger rows read and written many at a time, below the ORM: the batch's storage. No Flask.

The ORM's unit of work and SQLAlchemy's per-value type processing cost more than the
database itself at an import's scale (400,000 rows for a file of 100,000). So a batch reads
rows as plain dicts, and writes them through the driver in the caller's transaction: COPY on
PostgreSQL, ``executemany`` on SQLite. Values still pass through each column's own type (a
UTC datetime is stored exactly as the ORM stores it), but each distinct value only once: an
import's rows share a handful of moments.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

# Keys per DELETE ... IN (...) list: well under SQLite's bound-parameter limit.
CHUNK = 500

Key = TypeVar("Key")
Row = dict[str, Any]


def chunks(keys: Sequence[Key]) -> Iterator[Sequence[Key]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def rows_where(
    session: Session,
    table: Table,
    column: str,
    values: Collection[Any],
    *,
    columns: tuple[str, ...] = (),
    **equal: Any,
) -> list[Row]:
    """The rows of ``table`` (or just these ``columns``) whose ``column`` is one of
    ``values`` and whose other columns have the ``equal`` values, as dicts."""
    if not values:
        return []
    dialect = session.get_bind().dialect.name
    query = _rows_where(table, column, columns, tuple(sorted(equal)), dialect)
    parameters = {f"equal_{name}": value for name, value in equal.items()}
    given = sorted(values)
    parameters["values"] = array_text(given) if dialect == "postgresql" else json.dumps(given)
    return [dict(row) for row in session.execute(query, parameters).mappings()]


@cache
def _rows_where(
    table: Table, column: str, columns: tuple[str, ...], equal: tuple[str, ...], dialect: str
) -> Select[Any]:
    """The statement, built once. Its values travel as one text parameter however many they
    are (SQLAlchemy and the driver would otherwise bind, convert and quote each of thousands
    one by one): a text[] literal on PostgreSQL, whose planner then sees how many there are
    and probes the index for each; a JSON list on SQLite, read by ``json_each``."""
    target = table.c[column]
    if dialect == "postgresql":
        # Untyped, so no ::VARCHAR is added: PostgreSQL then reads the literal once, as a
        # constant (a cast from varchar would be evaluated again for every row it scans).
        condition = target == any_(cast(bindparam("values"), ARRAY(Text)))
    else:
        values = bindparam("values", type_=Text)
        listed = select(literal_column("value")).select_from(func.json_each(values))
        condition = target.in_(listed.scalar_subquery())
    query = select(*(table.c[c] for c in columns)) if columns else select(table)
    for name in equal:
        condition &= table.c[name] == bindparam(f"equal_{name}")
    return query.where(condition)


def array_text(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of these strings: each quoted, its backslashes and quotes
    escaped."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def blank(table: Table) -> Row:
    """A new row of ``table``: every column, at its scalar default or None."""
    return dict(_blank(table))


@cache
def _blank(table: Table) -> Row:
    row: Row = {}
    for column in table.columns:
        default = column.default
        row[column.name] = default.arg if default is not None and default.is_scalar else None
    return row


def insert(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """Insert these rows (each with every column of the table)."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    values = _values(session, table, names, rows)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # COPY: one stream per table instead of a statement per row.
        cursor = connection.connection.driver_connection.cursor()
        columns = ", ".join(f'"{n}"' for n in names)
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in values:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({marks})', values
    )


def update(session: Session, table: Table, rows: Sequence[Row], key: str = "key") -> None:
    """Rewrite these rows (each with every column of the table), found by ``key``."""
    if not rows:
        return
    names = [c.name for c in table.columns if c.name != key]
    values = [(*v[1:], v[0]) for v in _values(session, table, [key, *names], rows)]
    connection = session.connection()
    mark = "%s" if connection.dialect.name == "postgresql" else "?"
    assignments = ", ".join(f'"{n}" = {mark}' for n in names)
    connection.exec_driver_sql(
        f'UPDATE "{table.name}" SET {assignments} WHERE "{key}" = {mark}', values
    )


def delete_where(session: Session, table: Table, column: str, values: Collection[Any]) -> None:
    for chunk in chunks(sorted(values)):
        session.execute(delete(table).where(table.c[column].in_(chunk)))


def _values(
    session: Session, table: Table, names: list[str], rows: Sequence[Row]
) -> list[tuple[Any, ...]]:
    """Each row's values in ``names`` order, as its columns' types give them to the driver,
    each distinct value converted once."""
    dialect = session.get_bind().dialect
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            converted = {v: process(v) for v in set(values) if v is not None}
            values = list(map(converted.get, values))  # None stays None
        columns.append(values)
    return list(zip(*columns, strict=True))
