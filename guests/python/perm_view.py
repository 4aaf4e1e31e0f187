"""A view behind Django's ``permission_required``, in Python: "<user> may
change notes", or 403 without ``notes.change_note`` (needs the
``authentication`` and ``permissions`` middleware before it)."""

from shallot import HttpResponse, view
from shallot.auth import permission_required


@view
@permission_required("notes.change_note")
def change(request):
    return HttpResponse(f"{request.user} may change notes")
