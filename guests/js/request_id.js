// RequestIdMiddleware in JavaScript: the same behaviour as guests/request-id.
// The request's `request_id` attribute is the X-Request-Id header or a new
// uuid4, and every response echoes it as X-Request-Id.

export default class RequestId {
  processRequest(request) {
    request.set('request_id', request.headers.get('X-Request-Id') || crypto.randomUUID());
  }

  processResponse(request, response) {
    response.set('X-Request-Id', request.get('request_id'));
    return response;
  }
}
