"""Notes over SQL in Python, like the Rust `notes` guest: `GET /py-notes/`
lists `[{"id": 1, "title": "..."}]`, `POST` inserts the body as a title
(201 with `{"id": N}`), a duplicate title is an IntegrityError answered
409, and `?fail=1` inserts inside `atomic()` and then raises, which rolls
the insert back. The SQL runs on SQLite and PostgreSQL alike; the table
comes from migrations (`guests/notes/migrations`).

Grants: `sql_databases = ["default"]`."""

from shallot import HttpResponse, JsonResponse, sql, view

@view
def notes(request):
    db = sql.connect("default")
    if request.method == "POST":
        title = request.body.decode()
        try:
            with db.atomic():
                [row] = db.query("INSERT INTO notes (title) VALUES ($1) RETURNING id", [title])
                if request.GET.get("fail"):
                    raise ValueError("after the insert")
        except sql.IntegrityError as e:
            return HttpResponse(f"duplicate: {e.sql_kind}", status=409)
        except ValueError:
            return HttpResponse("rolled back", status=500)
        return JsonResponse({"id": row["id"]}, status=201)
    rows = db.query("SELECT id, title FROM notes ORDER BY id")
    return JsonResponse(rows)
