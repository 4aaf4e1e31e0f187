import uuid


class RequestIdMiddleware:
    """guests/request-id: X-Request-Id is the incoming header or a fresh uuid4, echoed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id") or str(uuid.uuid4())
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response
