// The `catalog` view in JavaScript: a TemplateResponse (Django's), rendered
// by the host from the first of missing.html and catalog.html that exists.
// With ?broken the context holds a Map, which JSON cannot carry: a
// TypeError in the view, a 500.

import { TemplateResponse } from 'shallot';

export default function catalog(request) {
  const items = [{ name: 'Tea', price: 3 }, { name: 'Fish & <Chips>', price: 7 }];
  const context = { items, title: 'Catalog' };
  if (request.GET.has('broken')) context.tags = new Map([['a', 1]]);
  return new TemplateResponse(['missing.html', 'catalog.html'], context);
}
