import { parseArgs } from 'node:util';
import { ADMIN_API_PREFIX, CLI_USER_AGENT } from './config.ts';
import { FAULT_ACTIONS, type FaultAction, type ServiceHealth } from './model.ts';
import type { faultView, hostView } from './routes.ts';

// The CLI reads what the admin API writes: the same view functions type both sides.
type FaultView = ReturnType<typeof faultView>;
type HostView = ReturnType<typeof hostView>;

/**
 * `cumulus cloud fault ...` and `cumulus cloud deployment`: the admin API over HTTP with
 * a Keystone token, as the openstack CLI gets one (OS_* variables). Experimental.
 */

export const FAULT_USAGE = `cumulus cloud fault <action> --host HOST [--process NAME] [--latency-ms N] [--url URL] [--json]
cumulus cloud fault list [--host HOST] [--limit N] [--url URL] [--json]
cumulus cloud deployment [--url URL] [--json]

Actions (experimental): ${FAULT_ACTIONS.join(', ')}
  stop, kill, start, restart, slow need --process; slow needs --latency-ms (0 clears it);
  fail-host and recover-host act on the whole host.

Credentials as for the openstack CLI: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME
(OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME default to Default), or OS_TOKEN. The admin role
is needed. --url defaults to CUMULUS_URL, else the server OS_AUTH_URL points at.`;

/** Where the commands print, and how they reach the server: tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
}

export type CliEnv = Readonly<Record<string, string | undefined>>;

const PROCESS_IO: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

const DEFAULT_URL = 'http://127.0.0.1:8000';

/** A refusal to report: what went wrong and the exit code it means (2: usage, 1: the server said no). */
class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

const usage = (message: string) => new CliFailure(`${message}\n\n${FAULT_USAGE}`, 2);

/** The server's base URL: --url, CUMULUS_URL, or OS_AUTH_URL without its /identity path. */
function baseUrl(flag: string | undefined, env: CliEnv): string {
  const explicit = flag ?? env.CUMULUS_URL;
  if (explicit) return explicit.replace(/\/+$/, '');
  if (env.OS_AUTH_URL) {
    const url = new URL(env.OS_AUTH_URL);
    const at = url.pathname.indexOf('/identity');
    return `${url.origin}${at >= 0 ? url.pathname.slice(0, at) : ''}`;
  }
  return DEFAULT_URL;
}

async function failureOf(response: Response, what: string): Promise<CliFailure> {
  const text = await response.text();
  let message = text.trim();
  try {
    const body = JSON.parse(text) as { error?: { message?: string; cumulus_code?: string } };
    if (body.error?.message) message = `${body.error.cumulus_code ? `${body.error.cumulus_code}: ` : ''}${body.error.message}`;
  } catch {
    // Not JSON (a proxy's page): print it as it came.
  }
  return new CliFailure(`${what} failed (HTTP ${response.status}): ${message}`, 1);
}

/** A project-scoped token, as `openstack token issue` gets one (POST /v3/auth/tokens with a password). */
async function token(env: CliEnv, io: CliIo): Promise<string> {
  if (env.OS_TOKEN) return env.OS_TOKEN;
  const missing = ['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD'].filter((name) => !env[name]);
  if (!env.OS_PROJECT_NAME && !env.OS_PROJECT_ID) missing.push('OS_PROJECT_NAME');
  if (missing.length > 0) throw usage(`set ${missing.join(', ')} (or OS_TOKEN) to authenticate`);
  const authUrl = (env.OS_AUTH_URL as string).replace(/\/+$/, '');
  const endpoint = `${/\/v3$/.test(authUrl) ? authUrl : `${authUrl}/v3`}/auth/tokens?nocatalog`;
  const domain = (id: string | undefined, name: string | undefined) => (id ? { id } : { name: name ?? 'Default' });
  const project = env.OS_PROJECT_ID ? { id: env.OS_PROJECT_ID } : { name: env.OS_PROJECT_NAME, domain: domain(env.OS_PROJECT_DOMAIN_ID, env.OS_PROJECT_DOMAIN_NAME) };
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: env.OS_USERNAME, domain: domain(env.OS_USER_DOMAIN_ID, env.OS_USER_DOMAIN_NAME), password: env.OS_PASSWORD } } },
      scope: { project },
    },
  };
  const response = await (io.fetch ?? fetch)(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': CLI_USER_AGENT }, body: JSON.stringify(body) });
  if (response.status !== 201) throw await failureOf(response, 'authentication');
  const subject = response.headers.get('x-subject-token');
  if (!subject) throw new CliFailure('authentication answered without X-Subject-Token', 1);
  return subject;
}

async function call(io: CliIo, env: CliEnv, url: string, method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'x-auth-token': await token(env, io), 'user-agent': CLI_USER_AGENT, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await (io.fetch ?? fetch)(`${url}${ADMIN_API_PREFIX}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!response.ok) throw await failureOf(response, what);
  return (await response.json()) as Record<string, unknown>;
}

/** Columns padded to their widest cell. */
function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n') + '\n';
}

function servicesNotOk(services: readonly ServiceHealth[]): string {
  const weak = services.filter((s) => s.status !== 'ok');
  if (weak.length === 0) return 'All services at full strength.\n';
  return `Services not at full strength:\n${table(
    ['SERVICE', 'RUNNING', 'SLOWED', 'STATUS', 'REASON'],
    weak.map((s) => [s.process, `${s.running}/${s.expected}`, String(s.slowed), s.status, s.reason ?? '']),
  )}`;
}

const byWhom = (f: FaultView) => (f.actor.user_name ? `${f.actor.user_name}${f.actor.project_name ? `/${f.actor.project_name}` : ''}` : '-');

async function runCommand(run: () => Promise<void>, io: CliIo): Promise<number> {
  try {
    await run();
    return 0;
  } catch (err) {
    if (err instanceof CliFailure) {
      io.stderr(`cumulus: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`cumulus: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
}

/**
 * `cumulus cloud fault <action> --host H [--process P] [--latency-ms N] [--url URL]`, and
 * `cumulus cloud fault list`. Returns the exit code: 0 done, 1 refused, 2 usage.
 */
export async function runFaultCommand(argv: string[], env: CliEnv, io: CliIo = PROCESS_IO): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parse(argv, { host: { type: 'string' }, process: { type: 'string' }, 'latency-ms': { type: 'string' }, limit: { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
    const [action, ...extra] = positionals;
    if (values.help) return void io.stdout(`${FAULT_USAGE}\n`);
    if (extra.length > 0) throw usage(`unexpected argument ${JSON.stringify(extra[0])}`);
    const url = baseUrl(values.url as string | undefined, env);
    if (action === 'list') {
      const search = new URLSearchParams();
      if (typeof values.host === 'string') search.set('host', values.host);
      if (typeof values.limit === 'string') search.set('limit', values.limit);
      const body = await call(io, env, url, 'GET', `/faults${search.size > 0 ? `?${search}` : ''}`, 'listing faults');
      if (values.json) return void io.stdout(`${JSON.stringify(body, null, 2)}\n`);
      const faults = body.faults as FaultView[];
      io.stdout(table(['AT', 'ACTION', 'HOST', 'PROCESS', 'BY', 'VIA', 'ID'], faults.map((f) => [f.at, f.action, f.host, f.process ?? '-', byWhom(f), f.actor.via, f.id])));
      return;
    }
    if (!action || !FAULT_ACTIONS.includes(action as FaultAction)) throw usage(`action must be one of ${FAULT_ACTIONS.join(', ')} or list; got ${JSON.stringify(action ?? '')}`);
    if (typeof values.host !== 'string') throw usage('--host is required');
    let latency: number | undefined;
    if (typeof values['latency-ms'] === 'string') {
      latency = Number(values['latency-ms']);
      if (!Number.isInteger(latency) || latency < 0) throw usage(`--latency-ms must be a whole number of milliseconds; got ${JSON.stringify(values['latency-ms'])}`);
    }
    // The server checks the combinations (process for which action...) and names the field it refuses.
    const request = { action, host: values.host, ...(typeof values.process === 'string' ? { process: values.process } : {}), ...(latency === undefined ? {} : { latency_ms: latency }) };
    const body = await call(io, env, url, 'POST', '/faults', `${action} on ${values.host}`, request);
    if (values.json) return void io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    const fault = body.fault as FaultView;
    const services = ((body.deployment as { services?: ServiceHealth[] } | undefined)?.services ?? []) as ServiceHealth[];
    const subject = fault.process ? `${fault.process} on ${fault.host}` : fault.host;
    io.stdout(`${fault.action} ${subject}: done at ${fault.at} by ${byWhom(fault)} (fault ${fault.id})\n`);
    io.stdout(table(['HOST', 'PROCESS', 'FROM', 'TO', 'PID'], fault.changes.map((c) => [c.host, c.process, c.from, c.to, c.pid === null ? '-' : String(c.pid)])));
    io.stdout(servicesNotOk(services));
  }, io);
}

/** `cumulus cloud deployment`: every host and process with its state, then the services not at full strength. */
export async function runDeploymentCommand(argv: string[], env: CliEnv, io: CliIo = PROCESS_IO): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parse(argv, { url: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
    if (values.help) return void io.stdout(`${FAULT_USAGE}\n`);
    if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const body = await call(io, env, baseUrl(values.url as string | undefined, env), 'GET', '/deployment', 'reading the deployment');
    if (values.json) return void io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    const deployment = body.deployment as { hosts: HostView[]; services: ServiceHealth[] };
    const rows = deployment.hosts.flatMap((h) =>
      h.processes.map((p) => [h.name, h.role, h.state, p.name, p.state, p.pid === null ? '-' : String(p.pid), String(p.restart_count), p.latency_ms > 0 ? `${p.latency_ms}ms` : '-', p.started_at ?? '-']),
    );
    io.stdout(table(['HOST', 'ROLE', 'HOST STATE', 'PROCESS', 'STATE', 'PID', 'RESTARTS', 'LATENCY', 'STARTED'], rows));
    io.stdout(servicesNotOk(deployment.services));
  }, io);
}

/** `cumulus cloud <fault|deployment> ...`, for the composition root's dispatcher. */
export async function runCloudCommand(argv: string[], env: CliEnv, io: CliIo = PROCESS_IO): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'fault') return runFaultCommand(rest, env, io);
  if (command === 'deployment') return runDeploymentCommand(rest, env, io);
  io.stderr(`cumulus cloud: unknown command ${JSON.stringify(command ?? '')}\n\n${FAULT_USAGE}\n`);
  return 2;
}
