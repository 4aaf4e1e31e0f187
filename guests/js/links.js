// The `links` view in JavaScript: answers the path reverse() gives for the
// query's `name`, the other query parameters as keyword arguments
// (/links/?name=item&item_id=42 answers /items/42/). A NoReverseMatch
// escapes the view: a 500, as in Django.

import { HttpResponse, reverse } from 'shallot';

export default function links(request) {
  const kwargs = {};
  for (const [key, value] of request.GET.params) {
    if (key !== 'name') kwargs[key] = value;
  }
  const path = reverse(request.GET.get('name', ''), { kwargs });
  return new HttpResponse(path, { contentType: 'text/plain; charset=utf-8' });
}
