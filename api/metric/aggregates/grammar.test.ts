import { describe, expect, it } from 'vitest';
import { DescribedApiError } from '../../errors.ts';
import { describeOperation, extractReferences, parseOperations, parseOperationsText, renameReferences, MAX_OPERATION_DEPTH } from './grammar.ts';

/** The Gnocchi description of the 400 a bad `operations` gives. */
function refusal(input: unknown): Record<string, unknown> {
  try {
    parseOperations(input);
  } catch (err) {
    expect(err).toBeInstanceOf(DescribedApiError);
    expect((err as DescribedApiError).httpStatus).toBe(400);
    return (err as DescribedApiError).description as Record<string, unknown>;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('the operations string form (pyparsing nestedExpr)', () => {
  it('reads nested parentheses into lists of words, whatever the spacing', () => {
    expect(parseOperationsText('(aggregate mean (metric (A mean) (B mean)))')).toEqual(['aggregate', 'mean', ['metric', ['A', 'mean'], ['B', 'mean']]]);
    expect(parseOperationsText('  (a(b)c)')).toEqual(['a', ['b'], 'c']);
    expect(parseOperationsText('(a\tb\nc)')).toEqual(['a', 'b', 'c']);
    expect(parseOperationsText('()')).toEqual([]);
  });

  it('keeps a quoted string whole, quotes included, and an unclosed quote as a plain character', () => {
    expect(parseOperationsText('(a "b c" d)')).toEqual(['a', '"b c"', 'd']);
    expect(parseOperationsText("(a 'x (y)')")).toEqual(['a', "'x (y)'"]);
    expect(parseOperationsText('(a "b c)')).toEqual(['a', '"b', 'c']);
  });

  it('ignores what follows the first expression, as Gnocchi does (its tests send a stray parenthesis)', () => {
    expect(parseOperationsText('(- (metric a mean) (metric b mean)))')).toEqual(['-', ['metric', 'a', 'mean'], ['metric', 'b', 'mean']]);
    expect(parseOperationsText('(a) junk')).toEqual(['a']);
  });

  it("refuses text that is no expression with pyparsing's message and position", () => {
    expect(refusal('(metroc foo bar')).toEqual({ cause: 'Invalid operations', reason: 'Fail to parse the operations string', detail: "Expected ')', found end of text  (at char 15), (line:1, col:16)" });
    expect(refusal('metric').detail).toBe("Expected '(', found 'metric'  (at char 0), (line:1, col:1)");
    expect(refusal('').detail).toBe("Expected '(', found end of text  (at char 0), (line:1, col:1)");
    expect(refusal('\n  (a (b)').detail).toBe("Expected ')', found end of text  (at char 9), (line:2, col:9)");
  });
});

describe('the operations tree', () => {
  it('checks the string and the JSON list forms into the same tree', () => {
    const text = parseOperations('(aggregate rate:mean (+ (metric (A mean) (B max)) 2.5))');
    const json = parseOperations(['aggregate', 'rate:mean', ['+', ['metric', ['A', 'mean'], ['B', 'max']], 2.5]]);
    expect(text).toEqual(json);
    expect(text).toEqual({
      op: 'aggregate',
      method: 'rate:mean',
      operand: { op: 'binary', name: '+', left: { op: 'metric', references: [{ name: 'A', aggregation: 'mean' }, { name: 'B', aggregation: 'max' }], list: true }, right: { op: 'number', value: 2.5 } },
    });
  });

  it('reads every operator family', () => {
    expect(parseOperations('(metric A mean)')).toEqual({ op: 'metric', references: [{ name: 'A', aggregation: 'mean' }], list: false });
    expect(parseOperations('(resample mean 1min (metric A mean))')).toMatchObject({ op: 'resample', method: 'mean', sampling: 60 });
    expect(parseOperations('(resample 95pct 3600 (metric A mean))')).toMatchObject({ op: 'resample', method: '95pct', sampling: 3600 });
    expect(parseOperations(['rolling', 'sum', 3, ['metric', 'A', 'mean']])).toMatchObject({ op: 'rolling', method: 'sum', window: 3 });
    expect(parseOperations('(rolling max 2 (metric A mean))')).toMatchObject({ op: 'rolling', window: 2 });
    expect(parseOperations('(clip (metric A mean) 1 2)')).toMatchObject({ op: 'clip', min: { op: 'number', value: 1 }, max: { op: 'number', value: 2 } });
    expect(parseOperations('(clip (metric A mean) 1)')).not.toHaveProperty('max');
    for (const op of ['abs', 'absolute', 'neg', 'negative', 'cos', 'sin', 'tan', 'floor', 'ceil', 'rateofchange', 'rateofchangesec']) {
      expect(parseOperations(`(${op} (metric A mean))`)).toMatchObject({ op: 'unary', name: op });
    }
    for (const op of ['+', '-', '*', '/', '**', '^', '%', 'mod', 'add', 'sub', 'mul', 'div', 'pow', '=', '!=', '<', '>', '<=', '>=', 'ne', 'clip_min', 'clip_max', 'max']) {
      expect(parseOperations(`(${op} (metric A mean) -1e2)`)).toMatchObject({ op: 'binary', name: op, right: { op: 'number', value: -100 } });
    }
  });

  it("refuses malformed trees with Gnocchi's cause, reason prefix and detail, and says what was expected", () => {
    expect(refusal([])).toMatchObject({ cause: 'Invalid input', detail: ['operations'], reason: expect.stringMatching(/^Operation must not be empty/) });
    expect(refusal({ foo: 'bar' }).reason).toMatch(/^Expected a tuple\/list, got a/);
    expect(refusal(['metric']).reason).toMatch(/^Operation need at least one argument for dictionary value/);
    expect(refusal('(rolling blah 2 (metric A mean))').reason).toMatch(/^'rolling' operation invalid for dictionary value.*expected \(rolling </);
    expect(refusal('(rolling mean (metric A mean))').reason).toMatch(/^'rolling' operation invalid/);
    expect(refusal('(rolling mean 0 (metric A mean))').reason).toMatch(/^'rolling' operation invalid/);
    expect(refusal('(rolling mean 2.5 (metric A mean))').reason).toMatch(/^'rolling' operation invalid/);
    expect(refusal('(notexist (absolute (metric A mean)))').reason).toMatch(/^'notexist' operation invalid for dictionary value/);
    expect(refusal('(resample mean invalid (metric A mean))').reason).toMatch(/^'resample' operation invalid/);
    expect(refusal('(resample mean 1.5 (metric A mean))').reason).toMatch(/whole number of seconds/);
    expect(refusal('(resample var 60 (metric A mean))').reason).toMatch(/^'resample' operation invalid/);
    expect(refusal('(aggregate last (metric A mean))').reason).toMatch(/^'aggregate' operation invalid/);
    expect(refusal('(metric A)').reason).toMatch(/^'metric' operation invalid/);
    expect(refusal('(metric (A mean B))').reason).toMatch(/^'metric' operation invalid/);
    expect(refusal(['metric', ['A', 'mean'], ['B', 3]]).reason).toMatch(/^'metric' operation invalid/);
    expect(refusal('(+ (metric A mean) two)').reason).toMatch(/expected an operation or a number, got two/);
    expect(refusal(['+', ['metric', 'A', 'mean'], true]).reason).toMatch(/expected an operation or a number/);
    expect(refusal('(+ (metric A mean))').reason).toMatch(/^'\+' operation invalid/);
    expect(refusal('(clip (metric A mean))').reason).toMatch(/^'clip' operation invalid/);
    expect(refusal([3, 'x']).reason).toMatch(/^'3' operation invalid/);
  });

  it('bounds the depth of a tree', () => {
    const deep = `${'(abs '.repeat(MAX_OPERATION_DEPTH + 1)}(metric A mean)${')'.repeat(MAX_OPERATION_DEPTH + 1)}`;
    expect(() => parseOperations(deep)).toThrow(DescribedApiError);
    const ok = `${'(abs '.repeat(10)}(metric A mean)${')'.repeat(10)}`;
    expect(parseOperations(ok)).toMatchObject({ op: 'unary' });
  });

  it('keeps injection attempts as plain names, never as structure', () => {
    const names = ["x' OR '1'='1", 'a\\b', '1; DROP TABLE metrics; --', '{id:String}', '%s', '$(rm -rf /)'];
    for (const name of names) {
      const tree = parseOperations(['metric', [name, 'mean']]);
      expect(extractReferences(tree)).toEqual([{ name, aggregation: 'mean' }]);
    }
    expect(extractReferences(parseOperations("(metric ('1;DROP mean))"))).toEqual([{ name: "'1;DROP", aggregation: 'mean' }]);
  });

  it('lists each metric reference once, in order of appearance (ReferencesList)', () => {
    const tree = parseOperations('(- (metric (B mean) (A mean) (B mean)) (aggregate sum (metric (A mean) (C max))))');
    expect(extractReferences(tree)).toEqual([
      { name: 'B', aggregation: 'mean' },
      { name: 'A', aggregation: 'mean' },
      { name: 'C', aggregation: 'max' },
    ]);
    expect(extractReferences(parseOperations('(aggregate mean (+ 1 2))'))).toEqual([]);
  });

  it('renames references and writes a tree back in the string form', () => {
    const tree = renameReferences(parseOperations('(clip (rolling mean 2 (metric (A mean) (B mean))) 0 (metric C max))'), (n) => n.toLowerCase());
    expect(describeOperation(tree)).toBe('(clip (rolling mean 2 (metric (a mean) (b mean))) 0 (metric c max))');
  });
});
