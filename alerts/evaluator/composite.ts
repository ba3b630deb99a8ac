/**
 * Aodh's composite evaluator (aodh/evaluator/composite.py): `and` / `or` of sub-rules,
 * each judged as its own threshold rule. The alarm expression is the rule itself; the ok
 * expression its dual (and <-> or). Sub-rules are evaluated lazily, as Python's all() and
 * any() short-circuit; when neither expression holds, every sub-rule is evaluated and the
 * mixed ones (a trend, no state) are resolved as Aodh does; still neither: insufficient data.
 */
import type { Alarm, AlarmRule, AlarmState } from '../../storage/index.ts';
import { UNKNOWN, type Decision, type RuleEvaluation } from './threshold.ts';

const STATE_CHANGE: Record<AlarmState, string> = { alarm: 'outside their threshold.', ok: 'inside their threshold.', 'insufficient data': 'state evaluated to unknown.' };

/** One leaf of the tree: `rule1`, `rule2`... in the order Aodh numbers them (depth first). */
interface RuleTarget {
  name: string;
  rule: AlarmRule;
  state: AlarmState | null;
  trending: 'ok' | 'alarm' | null;
  evaluated: boolean;
  labels?: Record<string, string>;
}

type Expression = { op: 'and' | 'or'; items: Expression[] } | { target: RuleTarget; wants: 'alarm' | 'ok' };

export type LeafEvaluator = (rule: AlarmRule) => Promise<RuleEvaluation>;

function parse(rule: AlarmRule, targets: RuleTarget[]): [Expression, Expression] {
  const keys = Object.keys(rule);
  if (keys.length === 1 && (keys[0] === 'and' || keys[0] === 'or')) {
    const op = keys[0];
    const parsed = (rule[op] as AlarmRule[]).map((sub) => parse(sub, targets));
    const alarms = parsed.map(([a]) => a);
    const oks = parsed.map(([, o]) => o);
    return op === 'and' ? [{ op: 'and', items: alarms }, { op: 'or', items: oks }] : [{ op: 'or', items: alarms }, { op: 'and', items: oks }];
  }
  const target: RuleTarget = { name: `rule${targets.length + 1}`, rule, state: null, trending: null, evaluated: false };
  targets.push(target);
  return [
    { target, wants: 'alarm' },
    { target, wants: 'ok' },
  ];
}

const show = (e: Expression): string => ('target' in e ? e.target.name : `(${e.items.map(show).join(` ${e.op} `)})`);

async function evaluateTarget(target: RuleTarget, leaf: LeafEvaluator): Promise<void> {
  if (target.evaluated) return;
  const result = await leaf(target.rule);
  target.state = result.state;
  target.trending = result.trending;
  if (result.labels) target.labels = result.labels;
  target.evaluated = true;
}

async function holds(e: Expression, leaf: LeafEvaluator): Promise<boolean> {
  if ('target' in e) {
    await evaluateTarget(e.target, leaf);
    return e.target.state === e.wants;
  }
  for (const item of e.items) {
    const value = await holds(item, leaf);
    if (e.op === 'and' && !value) return false;
    if (e.op === 'or' && value) return true;
  }
  return e.op === 'and';
}

function reason(alarm: Alarm, state: AlarmState, alarmExpression: Expression, targets: RuleTarget[]): Decision {
  const causes = Object.fromEntries(targets.filter((t) => t.state === state).map((t) => [t.name, t.rule]));
  const expression = show(alarmExpression);
  const verb = alarm.state !== state ? 'transition to' : 'remaining as';
  const labels = Object.assign({}, ...targets.filter((t) => t.state === state && t.labels).map((t) => t.labels)) as Record<string, string>;
  return {
    state,
    reason: `Composite rule alarm with composition form: ${expression} ${verb} ${state}, due to rules: ${Object.keys(causes).sort().join(', ')} ${STATE_CHANGE[state]}`,
    reasonData: { type: 'composite', composition_form: expression, causative_rules: causes },
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
}

/** Aodh's _refresh condition for a composite result: a change, or a repeat with repeat_actions. */
const refresh = (alarm: Alarm, decision: Decision): Decision | null => (alarm.state !== decision.state || alarm.repeat_actions ? decision : null);

export async function compositeDecision(alarm: Alarm, leaf: LeafEvaluator): Promise<Decision | null> {
  const targets: RuleTarget[] = [];
  const [alarmExpression, okExpression] = parse(alarm.rule, targets);

  const sufficient = async (): Promise<Decision | 'insufficient'> => {
    // Mixed sub-rules (a trend and no state), resolved as Aodh's _evaluate_sufficient does.
    for (const t of targets) {
      if (t.trending === null) continue;
      if (alarm.state === UNKNOWN) t.state = t.trending;
      else t.state = t.trending === 'alarm' ? 'ok' : 'alarm';
    }
    if (await holds(alarmExpression, leaf)) return reason(alarm, 'alarm', alarmExpression, targets);
    if (await holds(okExpression, leaf)) return reason(alarm, 'ok', alarmExpression, targets);
    return 'insufficient';
  };

  let result = await sufficient();
  if (result === 'insufficient') {
    for (const t of targets) await evaluateTarget(t, leaf);
    result = await sufficient();
  }
  if (result !== 'insufficient') return refresh(alarm, result);
  // Unknown is only announced on a change (Aodh refreshes it only from another state).
  return alarm.state !== UNKNOWN ? reason(alarm, UNKNOWN, alarmExpression, targets) : null;
}
