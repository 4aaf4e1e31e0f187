"""A view that takes an upload of any size and answers what arrived:
``bytes=N sha256=HEX``. It reads the body with ``request.read(65536)``, so
neither it nor the host holds more than a chunk of it at a time (the
server's ``max_stream_bytes`` lets bodies past ``max_body_bytes`` in)."""

import hashlib

from shallot import HttpResponse, view


@view
def upload(request):
    digest, size = hashlib.sha256(), 0
    while chunk := request.read(65536):
        digest.update(chunk)
        size += len(chunk)
    return HttpResponse(f"bytes={size} sha256={digest.hexdigest()}")
