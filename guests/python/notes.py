"""Notes over SQL in Python, like the Rust `notes` guest: `GET /py-notes/`
lists `[{"id": 1, "title": "..."}]`, `POST` inserts the body as a title
(201 with `{"id": N}`), a duplicate title is an IntegrityError answered
409, and `?fail=1` inserts inside `atomic()` and then raises, which rolls
the insert back.

Grants: `sql_databases = ["default"]`."""

from shallot import HttpResponse, JsonResponse, sql, view

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE)"


@view
def notes(request):
    db = sql.connect("default")
    db.execute(SCHEMA)
    if request.method == "POST":
        title = request.body.decode()
        try:
            with db.atomic():
                done = db.execute("INSERT INTO notes (title) VALUES (?1)", [title])
                if request.GET.get("fail"):
                    raise ValueError("after the insert")
        except sql.IntegrityError as e:
            return HttpResponse(f"duplicate: {e.sql_kind}", status=409)
        except ValueError:
            return HttpResponse("rolled back", status=500)
        return JsonResponse({"id": done.lastrowid}, status=201)
    rows = db.query("SELECT id, title FROM notes ORDER BY id")
    return JsonResponse(rows)
