import { describe, expect, it } from 'vitest';
import { openStateDatabase } from '../../core/index.ts';
import { createEvaluatorState, ownerOf } from './state.ts';

describe('evaluator state (SQLite)', () => {
  it('splits alarms over members stably, moving only the departed member alarms', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `alarm-${i}`);
    const three = ids.map((id) => ownerOf(id, ['a', 'b', 'c']));
    for (const m of ['a', 'b', 'c']) expect(three.filter((o) => o === m).length).toBeGreaterThan(50);
    const two = ids.map((id) => ownerOf(id, ['a', 'c']));
    ids.forEach((_, i) => {
      if (three[i] !== 'b') expect(two[i]).toBe(three[i]);
    });
    expect(ownerOf('x', [])).toBeUndefined();
  });

  it('leases expire; a clean leave ends one at once', () => {
    const state = createEvaluatorState(openStateDatabase(':memory:'));
    state.heartbeat('a', 1000, 5000);
    state.heartbeat('b', 2000, 5000);
    expect(state.liveMembers(5999)).toEqual(['a', 'b']);
    expect(state.liveMembers(6000)).toEqual(['b']);
    state.leave('b');
    expect(state.liveMembers(3000)).toEqual(['a']);
  });

  it('claims an alarm once per guard period', () => {
    const state = createEvaluatorState(openStateDatabase(':memory:'));
    expect(state.claim('x', 'a', 10_000, 5000)).toBe(true);
    expect(state.claim('x', 'b', 10_001, 5000)).toBe(false);
    expect(state.claim('x', 'b', 14_999, 5000)).toBe(false);
    expect(state.claim('x', 'b', 15_000, 5000)).toBe(true);
    expect(state.lastEvaluatedMs('x')).toBe(15_000);
  });
});
