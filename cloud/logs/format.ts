import type { LogLevel } from '../../core/index.ts';

/**
 * oslo.log's text format, as OpenStack services write /var/log/<project>/<process>.log:
 *   logging_context_format_string  `%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s`
 *   logging_default_format_string  `%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s`
 *   logging_user_identity_format   `%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s`
 *   logging_debug_format_suffix    `%(funcName)s %(pathname)s:%(lineno)d` (DEBUG lines only)
 * Stable wire format: the log collectors parse it.
 */

/** The request context fields oslo.log prints (oslo.context's get_logging_values). */
export interface LogContext {
  requestId: string;
  /** Printed as `None` when absent (Python's str(None)), as oslo.log >= 5.0 does. */
  globalRequestId?: string | null;
  userId: string | null;
  projectId: string | null;
  /** The user's domain (`user_domain`); also the project's unless projectDomainId says otherwise. */
  domainId: string | null;
  projectDomainId?: string | null;
  /** A domain-scoped token's domain (`domain`). */
  scopeDomainId?: string | null;
  /** `all` for a system-scoped token (`system_scope`). */
  systemScope?: string | null;
}

export interface OsloLine {
  time: Date;
  pid: number;
  level: LogLevel;
  /** The Python logger name, e.g. nova.compute.manager. */
  logger: string;
  message: string;
  context?: LogContext | null;
  /** An instance uuid: instance_uuid_format `[instance: <uuid>] ` before the message, as Nova logs it. */
  instance?: string | null;
  /** Where a DEBUG line came from; oslo.log appends it to DEBUG lines. */
  source?: { funcName: string; pathname: string; lineno: number } | null;
}

/** `%(asctime)s.%(msecs)03d` with log_date_format `%Y-%m-%d %H:%M:%S`, in UTC (services log their host's zone; ours is UTC). */
export function osloAsctime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(date.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** oslo.log's _ReplaceFalseValue: an empty or missing value prints as `-`. */
const orDash = (value: string | null | undefined) => (value ? value : '-');

export function userIdentity(context: LogContext): string {
  return [
    orDash(context.userId),
    orDash(context.projectId),
    orDash(context.scopeDomainId),
    orDash(context.systemScope),
    orDash(context.domainId),
    orDash(context.projectDomainId ?? context.domainId),
  ].join(' ');
}

/** One log line, without its newline. */
export function formatOsloLine(line: OsloLine, options: { globalRequestId: boolean }): string {
  const head = `${osloAsctime(line.time)} ${line.pid} ${line.level} ${line.logger}`;
  const context = line.context?.requestId ? line.context : null;
  // ContextFormatter picks the context format only when the record has a request id.
  const brackets = context
    ? `[${options.globalRequestId ? `${context.globalRequestId || 'None'} ` : ''}${context.requestId} ${userIdentity(context)}]`
    : '[-]';
  const instance = line.instance ? `[instance: ${line.instance}] ` : '';
  const suffix = line.level === 'DEBUG' && line.source ? ` ${line.source.funcName} ${line.source.pathname}:${line.source.lineno}` : '';
  return `${head} ${brackets} ${instance}${line.message}${suffix}`;
}
