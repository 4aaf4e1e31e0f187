"""SQL databases (grant: ``sql_databases`` in shallot.toml), DB-API flavoured.

    from shallot import sql

    db = sql.connect("default")
    rows = db.query("SELECT id, title FROM notes WHERE id = ?1", [42])
    # [{"id": 42, "title": "..."}]
    done = db.execute("INSERT INTO notes (title) VALUES (?1)", ["hello"])
    done.rowcount, done.lastrowid
    with db.atomic():  # Django's transaction.atomic: commit, or roll back on an exception
        ...

Values travel only as parameters (``None``, ``int``, ``float``, ``str``,
``bytes``); nothing here builds SQL from strings. A connection lasts as
long as the hook call that opened it: the host rolls back a transaction
left open and closes the connection when the call ends.

Failures raise Django's exception classes: :class:`IntegrityError`,
:class:`ProgrammingError`, :class:`OperationalError` (timeouts, results
over the limits, a closed connection), all :class:`DatabaseError`. One that
escapes a hook answers 500, except :class:`DatabaseUnavailable` (503) and
:class:`DatabasePermissionDenied` (403).

Importing this module is what makes the build import the ``sql``
capability, so a component that does needs the grant.
"""

from contextlib import contextmanager

from componentize_py_types import Err
from wit_world.imports import sql as _sql

from ._http import ShallotError


class DatabaseError(ShallotError):
    """Any failure the database reported; ``sql_kind`` is the WIT kind."""

    def __init__(self, message, sql_kind="operational"):
        super().__init__(message)
        self.sql_kind = sql_kind


class IntegrityError(DatabaseError):
    """A constraint was violated (unique, not null, foreign key, check)."""


class ProgrammingError(DatabaseError):
    """The statement is wrong: syntax, unknown table or column, parameters."""


class OperationalError(DatabaseError):
    """A timeout, a result over the limits, a closed connection, or else."""


class DatabaseUnavailable(OperationalError):
    """The database cannot be reached, or every connection is in use (503)."""

    kind = "unavailable"


class DatabasePermissionDenied(DatabaseError):
    """A write through a read-only grant, or a database not granted (403)."""

    kind = "permission-denied"


_CLASSES = {
    "integrity": IntegrityError,
    "programming": ProgrammingError,
    "unavailable": DatabaseUnavailable,
    "permission-denied": DatabasePermissionDenied,
}


def _error(e):
    kind = e.kind.name.lower().replace("_", "-")
    return _CLASSES.get(kind, OperationalError)(e.message, kind)


def _call(fn, *args):
    try:
        return fn(*args)
    except Err as e:
        raise _error(e.value) from None


def _param(v):
    if v is None:
        return _sql.Value_Null()
    if isinstance(v, bool):
        return _sql.Value_Integer(int(v))
    if isinstance(v, int):
        return _sql.Value_Integer(v)
    if isinstance(v, float):
        return _sql.Value_Real(v)
    if isinstance(v, str):
        return _sql.Value_Text(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return _sql.Value_Blob(bytes(v))
    raise TypeError(f"an SQL parameter is None, int, float, str or bytes, not {type(v).__name__}")


def _column(v):
    return None if isinstance(v, _sql.Value_Null) else v.value


class Result:
    """What a statement without rows did."""

    def __init__(self, rowcount, lastrowid):
        self.rowcount = rowcount
        self.lastrowid = lastrowid


class Connection:
    """A connection to one granted database, for one hook call."""

    def __init__(self, handle):
        self._handle = handle

    def query(self, sql, params=()):
        """The rows of ``sql`` as dicts, column name to value."""
        rows = _call(self._handle.query, sql, [_param(p) for p in params])
        return [dict(zip(rows.columns, map(_column, row))) for row in rows.rows]

    def execute(self, sql, params=()):
        """Runs ``sql``, which returns no rows; a :class:`Result`."""
        done = _call(self._handle.execute, sql, [_param(p) for p in params])
        return Result(done.rows_affected, done.last_insert_id)

    @contextmanager
    def atomic(self):
        """A transaction: committed at the end of the block, rolled back
        if it raises."""
        _call(self._handle.begin)
        try:
            yield self
        except BaseException:
            _call(self._handle.rollback)
            raise
        _call(self._handle.commit)


def connect(name="default"):
    """Opens the granted database ``name``."""
    return Connection(_call(_sql.Connection.open, name))
