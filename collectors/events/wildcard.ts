/**
 * Shell-style wildcards as Python's fnmatch matches event types (`*`, `?`, `[seq]`,
 * `[!seq]`; no way to quote a metacharacter), translated once into a regular expression.
 * Follows CPython 3.11's fnmatch.translate, including its handling of ranges and of an
 * unclosed `[`, which stays a literal.
 */

const SPECIAL = /[.*+?^${}()|[\]\\/-]/;

function escapeChar(ch: string): string {
  return SPECIAL.test(ch) ? `\\${ch}` : ch;
}

/** The body of a `[...]` set, as fnmatch rewrites it (hyphen ranges kept, empty ranges removed). */
function setBody(pattern: string, start: number, end: number): string {
  let i = start;
  const stuff = pattern.slice(start, end);
  let body: string;
  if (!stuff.includes('-')) {
    body = stuff.replace(/\\/g, '\\\\');
  } else {
    const chunks: string[] = [];
    let k = pattern[i] === '!' ? i + 2 : i + 1;
    for (;;) {
      k = pattern.indexOf('-', k);
      if (k < 0 || k >= end) break;
      chunks.push(pattern.slice(i, k));
      i = k + 1;
      k += 3;
    }
    const last = pattern.slice(i, end);
    if (last) chunks.push(last);
    else chunks[chunks.length - 1] += '-';
    // A range whose start is past its end (`z-a`) matches nothing: drop it, as fnmatch does.
    for (let c = chunks.length - 1; c > 0; c--) {
      const previous = chunks[c - 1] as string;
      const current = chunks[c] as string;
      if (previous.slice(-1) > current.slice(0, 1)) {
        chunks[c - 1] = previous.slice(0, -1) + current.slice(1);
        chunks.splice(c, 1);
      }
    }
    body = chunks.map((chunk) => chunk.replace(/\\/g, '\\\\').replace(/-/g, '\\-')).join('-');
  }
  return body.replace(/([&~|])/g, '\\$1');
}

/** fnmatch.translate for JavaScript: the whole event type must match. */
export function wildcardToRegExp(pattern: string): RegExp {
  let out = '';
  let afterStar = false;
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i] as string;
    i++;
    // Consecutive stars are one star.
    if (c === '*') {
      if (!afterStar) out += '.*';
      afterStar = true;
      continue;
    }
    afterStar = false;
    if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i;
      if (j < n && pattern[j] === '!') j++;
      if (j < n && pattern[j] === ']') j++;
      while (j < n && pattern[j] !== ']') j++;
      if (j >= n) {
        out += '\\[';
      } else {
        const body = setBody(pattern, i, j);
        i = j + 1;
        if (!body) out += '(?!)';
        else if (body === '!') out += '.';
        else {
          // Python takes a `]` first in a set as a member; JavaScript needs it escaped.
          const js = body.replace(/\]/g, '\\]');
          if (js[0] === '!') out += `[^${js.slice(1)}]`;
          else if (js[0] === '^' || js[0] === '[') out += `[\\${js}]`;
          else out += `[${js}]`;
        }
      }
    } else {
      out += escapeChar(c);
    }
  }
  return new RegExp(`^(?:${out})$`, 's');
}
