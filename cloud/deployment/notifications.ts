import { deriveId } from '../../core/index.ts';
import { ACCOUNT_USER, CADF_EVENT_TYPE_URI, EVENT_TYPE_ACTIVITY, UNKNOWN, cadfId, cadfTimestamp, type CadfEvent } from '../audit/index.ts';
import type { RequestContext } from '../notifier.ts';
import { ADMIN_API_PREFIX } from './config.ts';
import type { FaultAction, FaultRecord } from './model.ts';
import { processSpec } from './topology.ts';

/** Our own control exchange: fault injection is Cumulus's, not an OpenStack service's. */
export const FAULT_EXCHANGE = 'cumulus';
export const FAULT_PUBLISHER_ID = 'cloud-admin';
export const faultEventType = (action: FaultAction) => `cloud.fault.${action}`;

/** The CADF action of each operation: a taxonomy action, qualified where the taxonomy has none exact. */
const CADF_ACTIONS: Readonly<Record<FaultAction, string>> = {
  stop: 'stop',
  kill: 'stop/kill',
  start: 'start',
  restart: 'start/restart',
  slow: 'configure/slow',
  'fail-host': 'stop/fail',
  'recover-host': 'start/recover',
};

/** The observer: the admin API, an operational support service. */
export const FAULT_OBSERVER_ID = deriveId('service', 'cloud-admin');

/**
 * The fault as a CADF activity event, so the audit capture answers "who restarted
 * MySQL at 5pm?" from the same stream as keystonemiddleware's events: initiator is the
 * token's user and project (or the CLI without one), target the process or host.
 */
export function faultCadfEvent(record: FaultRecord): CadfEvent {
  const { actor } = record;
  const target = record.process
    ? { id: deriveId('deployment-process', record.host, record.process), typeURI: processSpec(record.process).typeURI, name: `${record.process}@${record.host}` }
    : { id: deriveId('deployment-host', record.host), typeURI: 'compute/machine', name: record.host };
  return {
    typeURI: CADF_EVENT_TYPE_URI,
    eventType: EVENT_TYPE_ACTIVITY,
    id: cadfId(),
    eventTime: cadfTimestamp(new Date(record.at)),
    action: CADF_ACTIONS[record.action],
    outcome: 'success',
    observer: { id: FAULT_OBSERVER_ID, typeURI: 'service/oss', name: 'cloud-admin' },
    initiator: {
      id: actor.userId ?? UNKNOWN,
      typeURI: ACCOUNT_USER,
      name: actor.userName ?? actor.via,
      ...(actor.projectId ? { project_id: actor.projectId } : {}),
      ...(actor.remoteAddress ? { host: { address: actor.remoteAddress } } : {}),
      ...(actor.requestId ? { request_id: actor.requestId } : {}),
    },
    target,
    ...(actor.via === 'system' ? {} : { requestPath: `${ADMIN_API_PREFIX}/faults` }),
    // pycadf's tag form, name?value=.
    tags: [`via?value=${actor.via}`],
    // Our extension: what was asked and what changed, so the audit record explains itself.
    fault: {
      id: record.id,
      action: record.action,
      host: record.host,
      process: record.process,
      latency_ms: record.latencyMs,
      changes: record.changes.map((c) => ({ host: c.host, process: c.process, from: c.from, to: c.to, pid: c.pid })),
    },
  };
}

/** The actor's own context on the message, like the services' notifications carry theirs. */
export function faultContext(record: FaultRecord): RequestContext {
  const { actor } = record;
  return {
    requestId: actor.requestId ?? `req-${record.id}`,
    userId: actor.userId,
    userName: actor.userName,
    projectId: actor.projectId,
    projectName: actor.projectName,
    domainId: null,
    roles: [],
    isAdmin: actor.userId !== null,
    remoteAddress: actor.remoteAddress,
  };
}
