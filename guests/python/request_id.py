"""RequestIdMiddleware in Python: the same behaviour as guests/request-id.

`request.request_id` is the `X-Request-Id` header or a new uuid4, and every
response echoes it as `X-Request-Id`.
"""

import uuid

from shallot import Middleware


class RequestId(Middleware):
    def process_request(self, request):
        request.request_id = request.headers.get("X-Request-Id") or str(uuid.uuid4())

    def process_response(self, request, response):
        response["X-Request-Id"] = request.request_id
        return response
