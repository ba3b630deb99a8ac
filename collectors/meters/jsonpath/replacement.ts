/** A compiled `re.sub` replacement: the text for one match. */
export type Replacement = (match: RegExpExecArray) => string;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
const OCTAL = /^[0-7]$/;

/**
 * Python's replacement template (`\1`, `\g<1>`, `\g<name>`, octal and letter escapes),
 * checked up front as Python checks it: a bad escape or a group the pattern lacks is refused.
 */
export function compileReplacement(template: string, regex: RegExp): Replacement {
  const groupCount = (new RegExp(`${regex.source}|`).exec('') as RegExpExecArray).length - 1;
  const names = new Set([...regex.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1] as string));
  const parts: Array<string | number | { name: string }> = [];
  const group = (ref: string): number | { name: string } => {
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n > groupCount) throw new SyntaxError(`invalid group reference ${n} in replacement ${JSON.stringify(template)}`);
      return n;
    }
    if (!names.has(ref)) throw new SyntaxError(`unknown group name ${JSON.stringify(ref)} in replacement ${JSON.stringify(template)}`);
    return { name: ref };
  };
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch !== '\\') {
      text += ch;
      continue;
    }
    const next = template[i + 1];
    if (next === undefined) throw new SyntaxError(`bad escape (end of replacement) in ${JSON.stringify(template)}`);
    const flush = () => {
      if (text) parts.push(text);
      text = '';
    };
    if (next === 'g') {
      const end = template.indexOf('>', i);
      if (template[i + 2] !== '<' || end < 0) throw new SyntaxError(`bad \\g group reference in ${JSON.stringify(template)}`);
      flush();
      parts.push(group(template.slice(i + 3, end)));
      i = end;
    } else if (next === '0') {
      let digits = '0';
      while (digits.length < 3 && OCTAL.test(template[i + 1 + digits.length] ?? '')) digits += template[i + 1 + digits.length];
      text += String.fromCharCode(parseInt(digits, 8));
      i += digits.length;
    } else if (/\d/.test(next)) {
      const three = template.slice(i + 1, i + 4);
      if (/^[0-7]{3}$/.test(three)) {
        const code = parseInt(three, 8);
        if (code > 0o377) throw new SyntaxError(`octal escape \\${three} out of range in ${JSON.stringify(template)}`);
        text += String.fromCharCode(code);
        i += 3;
      } else {
        const digits = /^\d{1,2}/.exec(template.slice(i + 1))?.[0] as string;
        flush();
        parts.push(group(digits));
        i += digits.length;
      }
    } else if (SIMPLE_ESCAPES[next] !== undefined) {
      text += SIMPLE_ESCAPES[next];
      i++;
    } else if (/[A-Za-z]/.test(next)) {
      throw new SyntaxError(`bad escape \\${next} in replacement ${JSON.stringify(template)}`);
    } else {
      text += `\\${next}`;
      i++;
    }
  }
  if (text) parts.push(text);
  return (match) => parts.map((p) => (typeof p === 'string' ? p : typeof p === 'number' ? (match[p] ?? '') : (match.groups?.[p.name] ?? ''))).join('');
}
