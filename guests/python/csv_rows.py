"""A streaming view (Django's ``StreamingHttpResponse``): ``?rows=N``
lines of ``i,i*i`` as ``text/csv``. The host pulls the lines one at a time
after every ``process_response`` has run, so neither the view nor the host
ever holds the whole file."""

from shallot import StreamingHttpResponse, view


@view
def csv_rows(request):
    rows = int(request.GET.get("rows", "10"))
    lines = (f"{i},{i * i}\n" for i in range(rows))
    return StreamingHttpResponse(lines, content_type="text/csv")
