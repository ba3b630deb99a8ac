import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../notifier.ts';
import { ownerFor, owns } from './access.ts';
import { formatCidr, parseCidr, parseIp } from './cidr.ts';
import type { View } from './core.ts';
import {
  httpBadRequest,
  NeutronApiError,
  policyNotAuthorized,
  securityGroupCannotRemoveDefault,
  securityGroupDefaultAlreadyExists,
  securityGroupInUse,
  securityGroupNotFound,
  securityGroupRuleExists,
  securityGroupRuleNotFound,
} from './errors.ts';
import type { NeutronEvents } from './events.ts';
import { checkAttributes, optBoolean, optInteger, optString, optUuid, requestedProject, required, resourceBody } from './input.ts';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from './records.ts';
import type { NeutronStore } from './store.ts';
import { securityGroupRuleView, securityGroupView } from './views.ts';

const set = (...keys: string[]) => new Set(keys);
const GROUP_CREATE = set('name', 'description', 'stateful', 'project_id', 'tenant_id');
const GROUP_UPDATE = set('name', 'description', 'stateful');
const GROUP_READ_ONLY = set('id', 'project_id', 'tenant_id', 'security_group_rules', 'created_at', 'updated_at', 'revision_number', 'tags', 'shared');
const RULE_CREATE = set(
  'security_group_id',
  'direction',
  'ethertype',
  'protocol',
  'port_range_min',
  'port_range_max',
  'remote_ip_prefix',
  'remote_group_id',
  'remote_address_group_id',
  'description',
  'project_id',
  'tenant_id',
);
const RULE_READ_ONLY = set('id', 'created_at', 'updated_at', 'revision_number', 'normalized_cidr', 'belongs_to_default_sg');

/** neutron_lib.constants.IP_PROTOCOL_MAP's names (plus `icmpv6`, an accepted alias). */
const PROTOCOL_NUMBERS: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
const ICMP_PROTOCOLS = new Set([1, 58]);

/** The protocol as Neutron stores it (name or number text; null for any), and its number. */
function parseProtocol(value: unknown): { text: string | null; number: number | null } {
  if (value === undefined || value === null || value === 'any') return { text: null, number: null };
  const text = String(value).toLowerCase();
  if (/^\d+$/.test(text) && Number(text) <= 255) return { text, number: Number(text) };
  const number = PROTOCOL_NUMBERS[text];
  if (number === undefined) {
    throw new NeutronApiError(
      'SecurityGroupRuleInvalidProtocol',
      400,
      `Security group rule protocol ${String(value)} not supported. Only protocol values [None, ${Object.keys(PROTOCOL_NUMBERS).map((p) => `'${p}'`).join(', ')}] and integer representations [0 to 255] are supported.`,
    );
  }
  return { text, number };
}

/** Neutron's security groups and rules (securitygroups_db). */
export class SecurityGroupApi {
  constructor(
    private readonly store: NeutronStore,
    private readonly events: NeutronEvents,
  ) {}

  visibleGroup(id: string, context: RequestContext): SecurityGroupRecord {
    const group = this.store.securityGroup(id);
    if (!group || !owns(context, group.project_id)) throw securityGroupNotFound(id);
    return group;
  }

  /** Listing creates the default group of the project asked about, as Neutron's get_security_groups does. */
  listGroups(context: RequestContext, projectFilter: readonly string[]): View[] {
    const project = projectFilter[0] ?? context.projectId;
    // Only for a project the caller acts for: a filter must not plant groups in other projects.
    if (project && owns(context, project)) this.store.ensureDefaultSecurityGroup(project);
    return this.store
      .securityGroups()
      .filter((g) => owns(context, g.project_id))
      .map((g) => securityGroupView(g));
  }

  showGroup(id: string, context: RequestContext): View {
    return securityGroupView(this.visibleGroup(id, context));
  }

  async createGroup(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('security_group', body, context);
    const input = resourceBody(body, 'security_group');
    checkAttributes(input, GROUP_CREATE, GROUP_READ_ONLY, 'create');
    const projectId = ownerFor(context, requestedProject(input));
    const name = optString(input, 'name') ?? '';
    if (name === 'default') throw securityGroupDefaultAlreadyExists();
    const description = optString(input, 'description') ?? '';
    const stateful = optBoolean(input, 'stateful') ?? true;
    const id = this.store.tx(() => {
      this.store.ensureDefaultSecurityGroup(projectId);
      return this.store.insertSecurityGroup({ name, project_id: projectId, description, stateful, is_default: false });
    });
    const view = securityGroupView(this.store.securityGroup(id) as SecurityGroupRecord);
    await this.events.createEnd('security_group', view, context);
    return view;
  }

  async updateGroup(id: string, body: unknown, context: RequestContext): Promise<View> {
    await this.events.updateStart('security_group', id, body, context);
    const input = resourceBody(body, 'security_group');
    checkAttributes(input, GROUP_UPDATE, GROUP_READ_ONLY, 'update');
    const group = this.visibleGroup(id, context);
    const fields: Record<string, unknown> = {};
    const name = optString(input, 'name');
    if (name !== undefined) {
      if (group.is_default && name !== 'default') throw new NeutronApiError('SecurityGroupCannotUpdateDefault', 409, 'Updating default security group not allowed.');
      fields.name = name;
    }
    const description = optString(input, 'description');
    if (description !== undefined) fields.description = description;
    const stateful = optBoolean(input, 'stateful');
    if (stateful !== undefined && stateful !== group.stateful) {
      if (this.store.portsUsingSecurityGroup(id) > 0) throw securityGroupInUse(id);
      fields.stateful = stateful;
    }
    this.store.update('neutron_security_groups', id, fields);
    const view = securityGroupView(this.store.securityGroup(id) as SecurityGroupRecord);
    await this.events.updateEnd('security_group', view, context);
    return view;
  }

  async deleteGroup(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('security_group', id, context);
    const group = this.visibleGroup(id, context);
    if (this.store.portsUsingSecurityGroup(id) > 0) throw securityGroupInUse(id);
    if (group.is_default && !context.isAdmin) throw securityGroupCannotRemoveDefault();
    const view = securityGroupView(group);
    this.store.tx(() => {
      this.store.deleteRulesReferencing(id);
      this.store.delete('neutron_security_groups', id);
    });
    await this.events.deleteEnd('security_group', id, view, context);
  }

  // --- rules ---------------------------------------------------------------------------

  private ruleView(rule: SecurityGroupRuleRecord): View {
    return securityGroupRuleView(rule, this.store.securityGroup(rule.security_group_id)?.is_default ?? false);
  }

  visibleRule(id: string, context: RequestContext): SecurityGroupRuleRecord {
    const rule = this.store.rule(id);
    const group = rule ? this.store.securityGroup(rule.security_group_id) : undefined;
    if (!rule || !group || !(owns(context, rule.project_id) || owns(context, group.project_id))) throw securityGroupRuleNotFound(id);
    return rule;
  }

  listRules(context: RequestContext): View[] {
    const groups = new Map(this.store.securityGroups().map((g) => [g.id, g]));
    return this.store
      .rules()
      .filter((r) => owns(context, r.project_id) || owns(context, groups.get(r.security_group_id)?.project_id ?? ''))
      .map((r) => securityGroupRuleView(r, groups.get(r.security_group_id)?.is_default ?? false));
  }

  showRule(id: string, context: RequestContext): View {
    return this.ruleView(this.visibleRule(id, context));
  }

  /** Port ranges as Neutron validates them per protocol (_validate_port_range). */
  private portRange(protocol: { text: string | null; number: number | null }, min: number | null, max: number | null): { min: number | null; max: number | null } {
    if (min === null && max === null) return { min, max };
    if (protocol.number !== null && PORT_PROTOCOLS.has(protocol.number)) {
      const low = min ?? max;
      const high = max ?? min;
      for (const value of [low, high]) {
        if (value === null || value < 1 || value > 65535) throw new NeutronApiError('SecurityGroupInvalidPortValue', 400, `Invalid value for port ${String(value)}`);
      }
      if ((low as number) > (high as number)) throw new NeutronApiError('SecurityGroupInvalidPortRange', 400, 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
      return { min: low, max: high };
    }
    if (protocol.number !== null && ICMP_PROTOCOLS.has(protocol.number)) {
      if (min === null) throw new NeutronApiError('SecurityGroupMissingIcmpType', 400, `ICMP code (port-range-max) ${String(max)} is provided but ICMP type (port-range-min) is missing.`);
      for (const [field, attribute, value] of [['type', 'port_range_min', min], ['code', 'port_range_max', max]] as const) {
        if (value !== null && (value < 0 || value > 255)) throw new NeutronApiError('SecurityGroupInvalidIcmpValue', 400, `Invalid value for ICMP ${field} (${attribute}) ${value}. It must be 0 to 255.`);
      }
      return { min, max };
    }
    throw new NeutronApiError('SecurityGroupInvalidProtocolForPortRange', 400, `Invalid protocol ${String(protocol.text)} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.`);
  }

  async createRule(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('security_group_rule', body, context);
    const input = resourceBody(body, 'security_group_rule');
    checkAttributes(input, RULE_CREATE, RULE_READ_ONLY, 'create');
    if (input.remote_address_group_id !== undefined && input.remote_address_group_id !== null) throw httpBadRequest('Address groups are not supported by this deployment');
    const groupId = required(optUuid(input, 'security_group_id'), 'security_group_id');
    const group = this.visibleGroup(groupId, context);
    const projectId = ownerFor(context, requestedProject(input) ?? (context.isAdmin ? group.project_id : undefined));
    if (!owns(context, group.project_id)) throw policyNotAuthorized('rule:create_security_group_rule');
    const direction = required(optString(input, 'direction'), 'direction');
    if (direction !== 'ingress' && direction !== 'egress') throw httpBadRequest(`Invalid input for direction. Reason: '${direction}' is not in ['ingress', 'egress'].`);
    const ethertypeText = (optString(input, 'ethertype') ?? 'IPv4').toLowerCase();
    if (ethertypeText !== 'ipv4' && ethertypeText !== 'ipv6') throw httpBadRequest(`Invalid input for ethertype. Reason: '${String(input.ethertype)}' is not in ['IPv4', 'IPv6'].`);
    const ethertype = ethertypeText === 'ipv4' ? 'IPv4' : 'IPv6';
    const protocol = parseProtocol(input.protocol);
    if (ethertype === 'IPv4' && protocol.number === 58) {
      throw new NeutronApiError('SecurityGroupEthertypeConflictWithProtocol', 400, `Ethertype IPv4 is not supported for protocol ${String(protocol.text)}.`);
    }
    const ports = this.portRange(protocol, optInteger(input, 'port_range_min') ?? null, optInteger(input, 'port_range_max') ?? null);
    const remoteGroupId = input.remote_group_id === null ? null : (optUuid(input, 'remote_group_id') ?? null);
    let remotePrefix = input.remote_ip_prefix === null ? null : (optString(input, 'remote_ip_prefix') ?? null);
    if (remoteGroupId !== null && remotePrefix !== null) throw new NeutronApiError('SecurityGroupRemoteGroupAndRemoteIpPrefix', 400, 'Only remote_ip_prefix or remote_group_id may be provided.');
    if (remoteGroupId !== null) this.visibleGroup(remoteGroupId, context);
    if (remotePrefix !== null) {
      // A bare address means a host route (/32 or /128), as Neutron stores it.
      const asCidr = remotePrefix.includes('/') ? remotePrefix : `${remotePrefix}/${parseIp(remotePrefix)?.version === 6 ? 128 : 32}`;
      const cidr = parseCidr(asCidr);
      if (!cidr) throw httpBadRequest(`Invalid input for remote_ip_prefix. Reason: '${remotePrefix}' is not a valid IP subnet.`);
      if ((cidr.version === 4 ? 'IPv4' : 'IPv6') !== ethertype) throw new NeutronApiError('SecurityGroupRuleParameterConflict', 400, `Conflicting value ethertype ${ethertype} for CIDR ${remotePrefix}`);
      remotePrefix = asCidr;
    }
    // 0.0.0.0/0 and ::/0 mean "anywhere", the same as no prefix, when looking for duplicates.
    const anywhere = (prefix: string | null) => {
      const cidr = prefix ? parseCidr(prefix) : null;
      return cidr === null || cidr.prefix === 0 ? null : formatCidr(cidr);
    };
    const duplicate = group.rules.find(
      (r) =>
        r.direction === direction &&
        r.ethertype === ethertype &&
        (r.protocol === null ? null : parseProtocol(r.protocol).number) === protocol.number &&
        r.port_range_min === ports.min &&
        r.port_range_max === ports.max &&
        r.remote_group_id === remoteGroupId &&
        anywhere(r.remote_ip_prefix) === anywhere(remotePrefix),
    );
    if (duplicate) throw securityGroupRuleExists(duplicate.id);
    const id = randomUUID();
    this.store.tx(() => {
      this.store.insertRule({
        id,
        security_group_id: groupId,
        project_id: projectId,
        direction,
        ethertype,
        protocol: protocol.text,
        port_range_min: ports.min,
        port_range_max: ports.max,
        remote_ip_prefix: remotePrefix,
        remote_group_id: remoteGroupId,
        description: optString(input, 'description') ?? '',
      });
      // A group's rules are part of it: a new rule is a new revision of the group.
      this.store.update('neutron_security_groups', groupId, {});
    });
    const view = this.ruleView(this.store.rule(id) as SecurityGroupRuleRecord);
    await this.events.createEnd('security_group_rule', view, context);
    return view;
  }

  async deleteRule(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('security_group_rule', id, context);
    const rule = this.visibleRule(id, context);
    const view = this.ruleView(rule);
    this.store.tx(() => {
      this.store.delete('neutron_security_group_rules', id);
      this.store.update('neutron_security_groups', rule.security_group_id, {});
    });
    await this.events.deleteEnd('security_group_rule', id, view, context);
  }
}
