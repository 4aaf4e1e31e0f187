// ExceptionJsonMiddleware in JavaScript: an exception from the view becomes
// 500 {"error": "<message>"}.

import { JsonResponse } from 'shallot';

export default class ExceptionJson {
  processException(request, exception) {
    return new JsonResponse({ error: exception.message }, { status: 500 });
  }
}
