/**
 * Label matchers as Alertmanager writes them: `name="value"`, `name!="value"`,
 * `name=~"regex"`, `name!~"regex"` (quotes optional; regexes anchored at both ends), or
 * the API's object form {name, value, isRegex, isEqual}. A missing label matches as ''.
 */
import { MatcherError } from './errors.ts';

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  operator: MatchOperator;
  value: string;
}

/** Alertmanager API v2's shape of a matcher. */
export interface ApiMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER_TEXT = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;
const regexCache = new Map<string, RegExp>();

function anchored(value: string): RegExp {
  let re = regexCache.get(value);
  if (!re) {
    re = new RegExp(`^(?:${value})$`);
    regexCache.set(value, re);
  }
  return re;
}

function checked(m: Matcher, where: string): Matcher {
  if (!LABEL_NAME.test(m.name)) throw new MatcherError(`${where}: expected a label name ([a-zA-Z_][a-zA-Z0-9_]*), got ${JSON.stringify(m.name)}`);
  if (m.operator === '=~' || m.operator === '!~') {
    try {
      anchored(m.value);
    } catch (err) {
      throw new MatcherError(`${where}: expected a valid regular expression after ${m.operator}, got ${JSON.stringify(m.value)}`, err);
    }
  }
  return m;
}

/** Parses `name<op>value`; `where` names the key in errors. */
export function parseMatcher(text: string, where = 'matcher'): Matcher {
  const m = MATCHER_TEXT.exec(text);
  if (!m) throw new MatcherError(`${where}: expected name="value" with one of =, !=, =~, !~, got ${JSON.stringify(text)}`);
  let value = m[3] as string;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = JSON.parse(value) as string;
    } catch (err) {
      throw new MatcherError(`${where}: the quoted value of ${JSON.stringify(text)} is not a valid string`, err);
    }
  }
  return checked({ name: m[1] as string, operator: m[2] as MatchOperator, value }, where);
}

export function fromApiMatcher(m: ApiMatcher, where = 'matcher'): Matcher {
  const operator: MatchOperator = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return checked({ name: m.name, operator, value: m.value }, where);
}

export function toApiMatcher(m: Matcher): ApiMatcher {
  return { name: m.name, value: m.value, isRegex: m.operator === '=~' || m.operator === '!~', isEqual: m.operator === '=' || m.operator === '=~' };
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.operator}${JSON.stringify(m.value)}`;
}

export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.operator) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchored(m.value).test(v);
    case '!~':
      return !anchored(m.value).test(v);
  }
}

/** All of them match (an empty list matches everything). */
export function matchesAll(ms: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return ms.every((m) => matches(m, labels));
}
