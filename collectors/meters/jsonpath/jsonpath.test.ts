import { describe, expect, it } from 'vitest';
import { compileJsonPath, JsonPathEvaluationError, JsonPathSyntaxError, matchPath, parseJsonPath } from './index.ts';
import { tokenize } from './lexer.ts';

/*
 * jsonpath-rw-ext's behaviour, pinned on the cases Ceilometer's meters.yaml relies on.
 * test/ceilometer-meters.test.ts checks many more against jsonpath-rw-ext itself.
 */

const root = { kind: 'root' } as const;
const f = (...names: string[]) => ({ kind: 'fields', names });
const child = (left: unknown, right: unknown) => ({ kind: 'child', left, right });
const path = (...names: string[]) => names.reduce<unknown>((left, name) => child(left, f(name)), root);
const lit = (value: string | number, float = false) => ({ kind: 'literal', value, float });

describe('jsonpath lexer', () => {
  it('tries the rules in jsonpath-rw-ext\'s order', () => {
    const types = (source: string) => tokenize(source).map((t) => `${t.type}:${String(t.value)}`);
    expect(types('trueish')).toEqual(['BOOL:true', 'ID:ish']);
    expect(types('1.5 -1 a-b @x')).toEqual(['FLOAT:1.5', 'NUMBER:-1', 'ID:a-b', 'ID:@x']);
    expect(types('$.a / 2')).toEqual(['$:$', '.:.', 'ID:a', 'SORT_DIRECTION:/', 'NUMBER:2']);
    expect(types("'a\\'b' \"c d\" `split(#, 0, 1)` ..")).toEqual(["ID:a'b", 'ID:c d', 'NAMED_OPERATOR:split(#, 0, 1)', 'DOUBLEDOT:..']);
    expect(types('a=~b')).toEqual(['ID:a', 'FILTER_OP:=', 'FILTER_OP:~', 'ID:b']);
  });

  it('refuses what it cannot read', () => {
    expect(() => tokenize('$.a # b')).toThrow(JsonPathSyntaxError);
    expect(() => tokenize("'open")).toThrow(/unexpected end/);
  });
});

describe('jsonpath parser', () => {
  it('reads plain paths, quoted keys and field lists', () => {
    expect(parseJsonPath('$.payload.size')).toEqual(path('payload', 'size'));
    expect(parseJsonPath("$['payload'].size")).toEqual(child(child(root, f('payload')), f('size')));
    expect(parseJsonPath('a,b.c')).toEqual(child(f('a', 'b'), f('c')));
  });

  it('binds | tighter than . (why Ceilometer\'s ctxt.user_id|ctxt.user finds nothing)', () => {
    expect(parseJsonPath('ctxt.user_id|ctxt.user')).toEqual(child(child(f('ctxt'), { kind: 'union', left: f('user_id'), right: f('ctxt') }), f('user')));
  });

  it('groups arithmetic to the right with no operator priority, one-field names read as strings', () => {
    expect(parseJsonPath('$.a * 2 + 1')).toEqual({ kind: 'operation', op: '*', left: path('a'), right: { kind: 'operation', op: '+', left: lit(2), right: lit(1) } });
    expect(parseJsonPath("'identity.authenticate.' + $.payload.outcome")).toEqual({ kind: 'operation', op: '+', left: lit('identity.authenticate.'), right: path('payload', 'outcome') });
    expect(parseJsonPath('$.a + 1 . b')).toEqual(child({ kind: 'operation', op: '+', left: path('a'), right: lit(1) }, f('b')));
  });

  it('reads filters, slices, sorts and named operators', () => {
    expect(parseJsonPath("$.m[?(@.name='cpu.frequency')].value")).toEqual(
      child(child(path('m'), { kind: 'filter', expressions: [{ target: child({ kind: 'this' }, f('name')), op: '=', value: 'cpu.frequency', valueKind: 'id' }] }), f('value')),
    );
    expect(parseJsonPath('$.g[?key=image_id & n > 1.5]')).toMatchObject({ right: { kind: 'filter', expressions: [{ op: '=', valueKind: 'id' }, { op: '>', value: 1.5, valueKind: 'float' }] } });
    expect(parseJsonPath('$.m.[*].n')).toEqual(child(child(path('m'), { kind: 'slice', start: null, end: null }), f('n')));
    expect(parseJsonPath('$.a[1:]')).toMatchObject({ right: { kind: 'slice', start: 1, end: null } });
    expect(parseJsonPath('$.a[\\b, /c]')).toMatchObject({ right: { kind: 'sorted', by: [{ reverse: true }, { reverse: false }] } });
    expect(parseJsonPath('$.id.`split(#, 0, 1)`')).toMatchObject({ right: { kind: 'split', separator: '#', segment: 0, maxSplit: 1 } });
  });

  it.each(['', '$.', '$.a / 2', '1 + 1.5', '$.payload.true', '$.a.`upper`', '$.a.`split(#,0,1)`', '$.a[?b=c.d]', '$.a )'])('refuses %j as jsonpath-rw-ext does', (source) => {
    expect(() => parseJsonPath(source)).toThrow(JsonPathSyntaxError);
  });
});

describe('jsonpath evaluation', () => {
  const data = {
    payload: {
      a: 1,
      s: 'host@lvm#pool',
      n: null,
      list: [1, 2, 3],
      objs: [{ k: 'x', v: 1 }, { k: 'y', v: 2 }, { k: 'x', v: '3' }],
      measurements: [{ result: 10, metric: { name: 'out', unit: 'B' } }],
      outcome: 'success',
    },
    ctxt: { user_id: 'u1', user: 'u2' },
  };
  const values = (source: string) => compileJsonPath(source).values(data);

  it('walks plain paths fast, with Python\'s None', () => {
    expect(values('$.payload.a')).toEqual([1]);
    expect(values('payload.a')).toEqual([1]);
    expect(values('$.payload.n')).toEqual([null]);
    expect(compileJsonPath('$.payload.n').first(data)).toBeUndefined();
    expect(values('$.payload.list.a')).toEqual([]);
    expect(values('gauge')).toEqual([]);
  });

  it('evaluates what Ceilometer\'s definitions use', () => {
    expect(values("$.payload.outcome - $.payload.outcome + 'identity.authenticate.' + $.payload.outcome")).toEqual([]);
    expect(values("'identity.authenticate.' + $.payload.outcome")).toEqual(['identity.authenticate.success']);
    expect(values('$.payload.s.`split(#, 0, 1)`')).toEqual(['host@lvm']);
    expect(values('$.payload.objs[?k=x].v')).toEqual([1, '3']);
    expect(values('$.payload.measurements.[*].metric.[*].name')).toEqual(['out']);
    expect(values('$.payload.list[*] * 2')).toEqual([2, 4, 6]);
    expect(values('ctxt.user_id|ctxt.user')).toEqual([]);
    expect(values('(ctxt.user_id)|(ctxt.user)')).toEqual(['u1', 'u2']);
  });

  it('gives the match paths Ceilometer\'s plugins see', () => {
    expect(compileJsonPath('$.payload.objs[?k=x].v').find(data).map(matchPath)).toEqual(['payload.objs.[0].v', 'payload.objs.[2].v']);
  });

  it.each(['$.payload.n[0]', '$.payload.a[0]', '$.payload.objs[?v>1.5].k', '$.payload.a & $.payload.a', '$.payload.a.`sorted`'])('raises on %s where Python raises', (source) => {
    expect(() => values(source)).toThrow(JsonPathEvaluationError);
  });
});
