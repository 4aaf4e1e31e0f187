// A context processor in JavaScript, the same as guests/site-context: `site`
// from its config (default "Shallot") and `user`, the request attribute an
// authentication middleware sets, or "anonymous" (Django's auth context
// processor, reduced to a name). `fail = "yes"` in its config makes it
// throw, and `broken = "yes"` return a Map, which JSON cannot carry (a
// TypeError naming it), for the tests.

import { config, log } from 'shallot';

export function contextProcessor(request) {
  log.info('call context');
  if (config.get('fail') !== null) throw new Error('site-context was told to fail');
  const values = {
    site: config.get('site', 'Shallot'),
    user: request.get('user') ?? 'anonymous',
  };
  if (config.get('broken') !== null) values.tags = new Map([['a', 1]]);
  return values;
}
