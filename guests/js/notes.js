// Notes over SQL in JavaScript, like the Rust `notes` guest: GET lists
// [{"id": 1, "title": "..."}], POST inserts the body as a title (201 with
// {"id": N}), a duplicate title is an IntegrityError answered 409, and
// ?fail=1 inserts inside atomic() and then throws, which rolls it back.
// The SQL runs on SQLite and PostgreSQL alike; the table comes from
// migrations (guests/notes/migrations).
//
// Grants: sql_databases = ["default"].

import { HttpResponse, JsonResponse } from 'shallot';
import { connect, IntegrityError } from 'shallot/sql';

export default function notes(request) {
  const db = connect('default');
  if (request.method === 'POST') {
    const title = new TextDecoder().decode(request.body);
    let done;
    try {
      done = db.atomic(() => {
        const [inserted] = db.query('INSERT INTO notes (title) VALUES ($1) RETURNING id', [title]);
        if (request.GET.get('fail')) throw new RangeError('after the insert');
        return inserted;
      });
    } catch (e) {
      if (e instanceof IntegrityError) return new HttpResponse(`duplicate: ${e.sqlKind}`, { status: 409 });
      if (e instanceof RangeError) return new HttpResponse('rolled back', { status: 500 });
      throw e;
    }
    return new JsonResponse({ id: done.id }, { status: 201 });
  }
  return new JsonResponse(db.query('SELECT id, title FROM notes ORDER BY id'));
}
