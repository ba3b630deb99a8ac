import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CumulusError, type TokenInfo } from '../core/index.ts';
import { ApiError } from './errors.ts';

/**
 * Who may do what: a small subset of oslo.policy, so an operator who knows OpenStack's
 * policy.yaml can read and override ours. A rule is an expression over the caller's token
 * and the target: `role:<name>`, `rule:<name>`, `project_id:%(project_id)s` (a token field
 * against a target field or a literal), `@` (always), `!` (never), combined with `and`,
 * `or`, `not` and parentheses. An empty rule means "any authenticated caller".
 *
 * Each route family has `<family>:list_all` (see every project's data; admins by default)
 * and the actions its routes enforce. Without list_all a caller sees only their own
 * project's rows: queries are filtered by project, so another project's id answers 404
 * exactly like an id that does not exist.
 */
export type PolicyRules = Readonly<Record<string, string>>;

export const DEFAULT_ACCESS_RULES: PolicyRules = {
  admin: 'role:admin',
  project_member: 'project_id:%(project_id)s',
  admin_or_project_member: 'rule:admin or rule:project_member',

  // Gnocchi's shared definitions: everyone reads them, admins change them.
  'archive_policy:read': '',
  'archive_policy:write': 'rule:admin',
  'archive_policy_rule:read': '',
  'archive_policy_rule:write': 'rule:admin',
  'resource_type:read': '',
  'resource_type:write': 'rule:admin',

  // Project data: admins see every project's, members their own.
  'metric:list_all': 'rule:admin',
  'metric:read': 'rule:admin_or_project_member',
  'metric:write': 'rule:admin_or_project_member',
  'resource:list_all': 'rule:admin',
  'resource:read': 'rule:admin_or_project_member',
  'resource:write': 'rule:admin_or_project_member',
  'event:list_all': 'rule:admin',
  'event:read': 'rule:admin_or_project_member',
  'audit:list_all': 'rule:admin',
  'audit:read': 'rule:admin_or_project_member',
  'log:list_all': 'rule:admin',
  'log:read': 'rule:admin_or_project_member',
  'cost:list_all': 'rule:admin',
  'cost:read': 'rule:admin_or_project_member',
  // CloudKitty's rating policies (cloudkitty/common/policies/v1/rating.py): modules and hashmap rules admin-only, quotes open.
  'rating:list_modules': 'rule:admin',
  'rating:get_module': 'rule:admin',
  'rating:update_module': 'rule:admin',
  'rating:module_config': 'rule:admin',
  'rating:quote': '',
  // Issuing a month's statements for every project at once (the monthly job's work, on demand).
  'statement:issue': 'rule:admin',
  // Re-rating rated periods (CloudKitty's schedule:task_reprocesses / get_task_reprocesses): admins.
  'rating_reprocess:read': 'rule:admin',
  'rating_reprocess:write': 'rule:admin',
  'alarm:list_all': 'rule:admin',
  'alarm:read': 'rule:admin_or_project_member',
  'alarm:write': 'rule:admin_or_project_member',
  // Pushing controllers' host metrics (InfluxDB / Prometheus protocols) is an operator's job.
  'ingest:write': 'rule:admin',
  // Service status and queue depths are operational data.
  'status:read': 'rule:admin',
  // Capacity planning (/capacity/v1) shows every hypervisor and every project's growth: operators only.
  'capacity:read': 'rule:admin',
};

/** A target's fields that rules may reference as %(name)s; the caller's own fields come from the token. */
export type PolicyTarget = Readonly<Record<string, string | null | undefined>>;

type Rule =
  | { kind: 'always' }
  | { kind: 'never' }
  | { kind: 'role'; role: string }
  | { kind: 'rule'; name: string }
  | { kind: 'match'; field: string; value: string; template: boolean }
  | { kind: 'not'; rule: Rule }
  | { kind: 'and'; rules: Rule[] }
  | { kind: 'or'; rules: Rule[] };

const TOKEN_FIELDS = new Set(['project_id', 'user_id', 'domain_id', 'project_name', 'user_name']);

export class PolicyRuleError extends CumulusError {
  constructor(rule: string, message: string) {
    super('CUMULUS_API_POLICY_INVALID', `Access policy rule '${rule}': ${message}`);
    this.name = 'PolicyRuleError';
  }
}

function tokenize(text: string): string[] {
  // `%(name)s` templates keep their parentheses: they are part of the check, not grouping.
  return text.match(/\(|\)|(?:%\(\w+\)s|[^\s()])+/g) ?? [];
}

/** Parses one rule expression; `name` is only for error messages. */
export function parseRule(name: string, text: string): Rule {
  const tokens = tokenize(text.trim());
  if (tokens.length === 0) return { kind: 'always' };
  let at = 0;
  const peek = () => tokens[at];
  const expression = (): Rule => {
    const parts = [conjunction()];
    while (peek() === 'or') {
      at++;
      parts.push(conjunction());
    }
    return parts.length === 1 ? (parts[0] as Rule) : { kind: 'or', rules: parts };
  };
  const conjunction = (): Rule => {
    const parts = [negation()];
    while (peek() === 'and') {
      at++;
      parts.push(negation());
    }
    return parts.length === 1 ? (parts[0] as Rule) : { kind: 'and', rules: parts };
  };
  const negation = (): Rule => {
    if (peek() === 'not') {
      at++;
      return { kind: 'not', rule: negation() };
    }
    return atom();
  };
  const atom = (): Rule => {
    const token = tokens[at++];
    if (token === undefined) throw new PolicyRuleError(name, `the expression "${text}" ends too early`);
    if (token === '(') {
      const inner = expression();
      if (tokens[at++] !== ')') throw new PolicyRuleError(name, `a "(" is not closed in "${text}"`);
      return inner;
    }
    if (token === '@') return { kind: 'always' };
    if (token === '!') return { kind: 'never' };
    const colon = token.indexOf(':');
    if (colon <= 0) throw new PolicyRuleError(name, `"${token}" is not a check: use role:<name>, rule:<name>, <field>:<value>, @ or !`);
    const key = token.slice(0, colon);
    const value = token.slice(colon + 1);
    if (key === 'role') return { kind: 'role', role: value.toLowerCase() };
    if (key === 'rule') return { kind: 'rule', name: value };
    if (!TOKEN_FIELDS.has(key)) throw new PolicyRuleError(name, `"${key}" is not a token field; use one of ${[...TOKEN_FIELDS].join(', ')}`);
    const template = /^%\((\w+)\)s$/.exec(value);
    return { kind: 'match', field: key, value: template ? (template[1] as string) : value, template: Boolean(template) };
  };
  const rule = expression();
  if (at !== tokens.length) throw new PolicyRuleError(name, `unexpected "${tokens[at]}" in "${text}"`);
  return rule;
}

function tokenField(identity: TokenInfo, field: string): string | null {
  switch (field) {
    case 'project_id':
      return identity.projectId;
    case 'user_id':
      return identity.userId;
    case 'domain_id':
      return identity.domainId;
    case 'project_name':
      return identity.projectName;
    case 'user_name':
      return identity.userName;
    default:
      return null;
  }
}

/** The compiled policy: checks actions, and tells each route family whose rows a caller sees. */
export class AccessPolicy {
  private readonly rules = new Map<string, Rule>();

  constructor(rules: PolicyRules = DEFAULT_ACCESS_RULES) {
    for (const [name, text] of Object.entries(rules)) this.rules.set(name, parseRule(name, text));
    for (const name of this.rules.keys()) this.checkReferences(name, new Set());
  }

  private checkReferences(name: string, seen: Set<string>): void {
    if (seen.has(name)) throw new PolicyRuleError(name, `rules refer to each other in a loop (${[...seen, name].join(' -> ')})`);
    const visit = (rule: Rule): void => {
      if (rule.kind === 'rule') {
        if (!this.rules.has(rule.name)) throw new PolicyRuleError(name, `refers to rule:${rule.name}, which is not defined`);
        this.checkReferences(rule.name, new Set([...seen, name]));
      } else if (rule.kind === 'not') visit(rule.rule);
      else if (rule.kind === 'and' || rule.kind === 'or') rule.rules.forEach(visit);
    };
    visit(this.rules.get(name) as Rule);
  }

  private evaluate(rule: Rule, identity: TokenInfo, target: PolicyTarget): boolean {
    switch (rule.kind) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'role':
        return identity.roles.some((r) => r.toLowerCase() === rule.role);
      case 'rule':
        return this.evaluate(this.rules.get(rule.name) as Rule, identity, target);
      case 'match': {
        const mine = tokenField(identity, rule.field);
        const wanted = rule.template ? target[rule.value] : rule.value;
        return mine !== null && wanted !== null && wanted !== undefined && mine === wanted;
      }
      case 'not':
        return !this.evaluate(rule.rule, identity, target);
      case 'and':
        return rule.rules.every((r) => this.evaluate(r, identity, target));
      case 'or':
        return rule.rules.some((r) => this.evaluate(r, identity, target));
    }
  }

  /** Whether the caller may do `action` on the target (the caller's own project when none is given). */
  allows(action: string, identity: TokenInfo, target?: PolicyTarget): boolean {
    const rule = this.rules.get(action);
    if (!rule) throw new PolicyRuleError(action, 'no such action is defined (a route names an action the policy lacks)');
    return this.evaluate(rule, identity, target ?? { project_id: identity.projectId, user_id: identity.userId });
  }

  /** Throws 403 unless allowed. */
  enforce(action: string, identity: TokenInfo, target?: PolicyTarget): void {
    if (!this.allows(action, identity, target)) throw new ApiError('CUMULUS_API_FORBIDDEN', 403, `Access was denied to this resource: the policy does not allow ${action} for this token.`);
  }

  /**
   * Whose rows the caller reads in a family: null (every project) when `<family>:list_all`
   * allows it, else the caller's own project, after checking `<family>:read` on it.
   */
  readableProject(family: string, identity: TokenInfo): string | null {
    if (this.allows(`${family}:list_all`, identity, {})) return null;
    if (!identity.projectId) throw new ApiError('CUMULUS_AUTH_SCOPE_REQUIRED', 403, 'This API needs a project-scoped token: authenticate with a project scope.');
    this.enforce(`${family}:read`, identity, { project_id: identity.projectId, user_id: identity.userId });
    return identity.projectId;
  }
}

/**
 * The defaults with an operator's file over them (YAML or JSON, oslo.policy's format:
 * `"metric:list_all": "role:admin or role:auditor"`). Rule names must be known actions or
 * start with a letter; a bad expression stops startup with the rule's name.
 */
export function loadAccessPolicy(file?: string): AccessPolicy {
  if (!file) return new AccessPolicy();
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CumulusError('CUMULUS_API_POLICY_INVALID', `Cannot read the access policy file ${file}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return new AccessPolicy();
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new CumulusError('CUMULUS_API_POLICY_INVALID', `The access policy file ${file} must map rule names to expressions`);
  const overrides: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new PolicyRuleError(name, `the expression must be a string, got ${JSON.stringify(value)} (in ${file})`);
    overrides[name] = value;
  }
  return new AccessPolicy({ ...DEFAULT_ACCESS_RULES, ...overrides });
}
