// SQL databases (grant: sql_databases in shallot.toml) for JavaScript
// guests: `import { connect, IntegrityError } from 'shallot/sql'`.
//
//   const db = connect('default');
//   const rows = db.query('SELECT id, title FROM notes WHERE id = ?1', [42]);
//   // [{ id: 42, title: '...' }]
//   const done = db.execute('INSERT INTO notes (title) VALUES (?1)', ['hello']);
//   done.rowCount, done.lastInsertId
//   db.atomic(() => { ... });  // committed, or rolled back if it throws
//
// Values travel only as parameters: null, numbers (an integer-valued
// number is bound as an integer), BigInt, strings, Uint8Array. Integer
// columns read as numbers when they fit, else BigInt. A connection lasts
// as long as the hook call that opened it.
//
// Failures throw Django's classes: IntegrityError, ProgrammingError,
// OperationalError, all DatabaseError (a ShallotError: escaping a hook it
// answers 500, DatabaseUnavailable 503, DatabasePermissionDenied 403).
// Importing this module is what makes the build import the `sql`
// capability, so a component that does needs the grant.

import { Connection as WitConnection } from 'shallot:http/sql@0.1.0';
import { ShallotError } from './shallot.js';

export class DatabaseError extends ShallotError {
  constructor(message = '', sqlKind = 'operational', kind = 'internal') {
    super(message, kind);
    this.sqlKind = sqlKind;
  }
}
export class IntegrityError extends DatabaseError {}
export class ProgrammingError extends DatabaseError {}
export class OperationalError extends DatabaseError {}
export class DatabaseUnavailable extends OperationalError {
  constructor(message = '', sqlKind = 'unavailable') { super(message, sqlKind, 'unavailable'); }
}
export class DatabasePermissionDenied extends DatabaseError {
  constructor(message = '', sqlKind = 'permission-denied') { super(message, sqlKind, 'permission-denied'); }
}

const CLASSES = {
  integrity: IntegrityError,
  programming: ProgrammingError,
  unavailable: DatabaseUnavailable,
  'permission-denied': DatabasePermissionDenied,
};

function call(fn) {
  try {
    return fn();
  } catch (e) {
    const err = e && e.payload;
    if (!err || err.kind === undefined) throw e;
    const Cls = CLASSES[err.kind] ?? OperationalError;
    throw new Cls(err.message, err.kind);
  }
}

function param(v) {
  if (v === null || v === undefined) return { tag: 'null' };
  if (typeof v === 'boolean') return { tag: 'integer', val: v ? 1n : 0n };
  if (typeof v === 'bigint') return { tag: 'integer', val: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { tag: 'integer', val: BigInt(v) } : { tag: 'real', val: v };
  if (typeof v === 'string') return { tag: 'text', val: v };
  if (v instanceof Uint8Array) return { tag: 'blob', val: v };
  throw new TypeError(`an SQL parameter is null, a number, a BigInt, a string or a Uint8Array, not ${typeof v}`);
}

function column(v) {
  if (v.tag === 'null') return null;
  if (v.tag === 'integer') return Number.isSafeInteger(Number(v.val)) ? Number(v.val) : v.val;
  return v.val;
}

/** A connection to one granted database, for one hook call. */
export class Connection {
  constructor(handle) {
    this.handle = handle;
  }
  /** The rows of `sql` as objects, column name to value. */
  query(sql, params = []) {
    const rows = call(() => this.handle.query(sql, params.map(param)));
    return rows.rows.map((row) => Object.fromEntries(rows.columns.map((c, i) => [c, column(row[i])])));
  }
  /** Runs `sql`, which returns no rows. */
  execute(sql, params = []) {
    const done = call(() => this.handle.execute(sql, params.map(param)));
    const id = done.lastInsertId;
    return { rowCount: Number(done.rowsAffected), lastInsertId: id === undefined || id === null ? null : Number(id) };
  }
  /** Runs fn(db) in a transaction: committed, or rolled back if it throws. */
  atomic(fn) {
    call(() => this.handle.begin());
    let out;
    try {
      out = fn(this);
    } catch (e) {
      call(() => this.handle.rollback());
      throw e;
    }
    call(() => this.handle.commit());
    return out;
  }
}

/** Opens the granted database `name`. */
export function connect(name = 'default') {
  return new Connection(call(() => WitConnection.open(name)));
}
