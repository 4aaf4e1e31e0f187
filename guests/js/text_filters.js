// Template filters in JavaScript, the same as guests/text-filters:
//
// - shout: the value in capitals with "!" ({{ title|shout }});
// - emphasize: <em>value</em>, the value escaped, marked safe (Django's
//   mark_safe after escape);
// - words(n): the first n words, like Django's truncatewords;
// - explode: throws, to show a failing filter fails only its request.

import { escape, markSafe } from 'shallot';

// A string as it is, anything else as its JSON.
const text = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

export const filters = {
  shout(value) {
    return `${text(value).toUpperCase()}!`;
  },

  emphasize(value) {
    return markSafe(`<em>${escape(text(value))}</em>`);
  },

  words(value, n) {
    if (!Number.isInteger(n) || n < 0) throw new TypeError('words needs the number of words, e.g. words(3)');
    const all = text(value).split(/\s+/).filter((w) => w !== '');
    const out = all.slice(0, n).join(' ');
    return all.length > n ? `${out} …` : out;
  },

  explode() {
    throw new Error('the explode filter always fails');
  },
};
