// An upload view in JavaScript: reads the body 64 KiB at a time with
// request.read() and answers `bytes=N chunks=C first=F last=L` (the first
// and last byte), never holding more than one chunk of it.

import { HttpResponse } from 'shallot';

export default function upload(request) {
  let size = 0;
  let chunks = 0;
  let first = -1;
  let last = -1;
  for (;;) {
    const chunk = request.read(65536);
    if (chunk.length === 0) break;
    if (first < 0) first = chunk[0];
    last = chunk[chunk.length - 1];
    size += chunk.length;
    chunks += 1;
  }
  return new HttpResponse(`bytes=${size} chunks=${chunks} first=${first} last=${last}`);
}
