"""``request.user`` and its permissions, as the ``authentication`` and
``permissions`` middleware leave them on the request (request attributes
``user``, ``user_id``, ``user_is_superuser`` and ``user_permissions``, the
last space-separated; see the Rust SDK's ``shallot_guest::auth``)::

    from shallot import HttpResponse, view
    from shallot.auth import permission_required

    @view
    @permission_required("notes.change_note")
    def change(request):
        return HttpResponse(f"{request.user} may change notes")

Without those attributes the user is anonymous and has no permission.
"""

import functools

from ._http import PermissionDenied


def _attribute(request, name):
    return getattr(request, name, None)


def is_authenticated(request):
    """Django's ``request.user.is_authenticated``."""
    return _attribute(request, "user_id") is not None


def has_perm(request, perm):
    """Django's ``request.user.has_perm(perm)``: an active superuser has
    every permission, an anonymous user none."""
    if not is_authenticated(request):
        return False
    if _attribute(request, "user_is_superuser") == "1":
        return True
    return perm in (_attribute(request, "user_permissions") or "").split()


def permission_required(perm):
    """Django's ``@permission_required(perm, raise_exception=True)``: the
    view answers 403 (``PermissionDenied``) unless the user has ``perm``
    (a name, or several that are all needed). For the redirect to the login
    page instead, list the view in the ``permissions`` middleware's
    ``required``."""
    perms = (perm,) if isinstance(perm, str) else tuple(perm)

    def decorator(view_func):
        @functools.wraps(view_func)
        def wrapped(request, *args, **kwargs):
            if not all(has_perm(request, p) for p in perms):
                raise PermissionDenied(f"permission {', '.join(perms)} required")
            return view_func(request, *args, **kwargs)

        return wrapped

    return decorator
