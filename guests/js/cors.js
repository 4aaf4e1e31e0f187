// CorsMiddleware in JavaScript, as in ../shared/bench/django: a preflight is
// answered 204 without reaching the view; every response gets
// Access-Control-Allow-Origin: * and Origin in Vary.

import { HttpResponse, patchVaryHeaders } from 'shallot';

export default class Cors {
  processRequest(request) {
    if (request.method === 'OPTIONS' && request.headers.has('Access-Control-Request-Method')) {
      const response = new HttpResponse('', { status: 204, contentType: null });
      response.set('Access-Control-Allow-Methods', 'GET, OPTIONS');
      response.set('Access-Control-Allow-Headers', 'Authorization, X-Request-Id');
      response.set('Access-Control-Max-Age', '86400');
      return response;
    }
    return null;
  }

  processResponse(request, response) {
    response.set('Access-Control-Allow-Origin', '*');
    patchVaryHeaders(response, ['Origin']);
    return response;
  }
}
