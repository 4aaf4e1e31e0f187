// A streaming view in JavaScript (Django's StreamingHttpResponse):
// `?rows=N` lines of `i,i*i` as text/csv, pulled by the host one at a time
// from a generator, so the whole file is never held.

import { StreamingHttpResponse } from 'shallot';

function* lines(rows) {
  for (let i = 0; i < rows; i += 1) yield `${i},${i * i}\n`;
}

export default function csvRows(request) {
  const rows = Number(request.GET.get('rows', '10'));
  return new StreamingHttpResponse(lines(rows), { contentType: 'text/csv' });
}
