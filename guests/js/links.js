// The `links` view in JavaScript: answers the path reverse() gives for the
// query's `name`, the other query parameters as keyword arguments
// (/links/?name=item&item_id=42 answers /items/42/). A NoReverseMatch
// escapes the view: a 500, as in Django. With ?resolve=PATH it answers what
// resolve() finds for PATH (`api:user ann`), or 404 when nothing does.

import { HttpResponse, resolve, reverse } from 'shallot';

export default function links(request) {
  if (request.GET.has('resolve')) {
    const match = resolve(request.GET.get('resolve'));
    const found = `${match.urlName} ${Object.values(match.kwargs).join(',')}`;
    return new HttpResponse(found, { contentType: 'text/plain; charset=utf-8' });
  }
  const kwargs = {};
  for (const [key, value] of request.GET.params) {
    if (key !== 'name') kwargs[key] = value;
  }
  const path = reverse(request.GET.get('name', ''), { kwargs });
  return new HttpResponse(path, { contentType: 'text/plain; charset=utf-8' });
}
