/**
 * `cumulus report capacity --format html|pdf|csv|json --output FILE`: fetches the capacity
 * planning report from a running Cumulus (GET /capacity/v1/report) as an operator would,
 * with a Keystone token: OS_* credentials from the environment when set, else the admin
 * of the local data folder (its generated password in data/secrets). The report is built
 * where the data is: a CLI process cannot open the platform's embedded store while it runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CumulusError, errorMessage, type CumulusConfig } from '../core/index.ts';

const FORMATS = ['html', 'pdf', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

export interface ReportCommandIo {
  env: Readonly<Record<string, string | undefined>>;
  /** Progress lines (stderr). */
  say(line: string): void;
}

const bad = (message: string) => new CumulusError('CUMULUS_CLI_BAD_OPTION', message);

interface Credentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomain: string;
  projectDomain: string;
}

function credentials(config: CumulusConfig, baseUrl: string, env: ReportCommandIo['env']): Credentials {
  if (env.OS_PASSWORD && env.OS_USERNAME) {
    return {
      authUrl: env.OS_AUTH_URL ?? `${baseUrl}/identity/v3`,
      username: env.OS_USERNAME,
      password: env.OS_PASSWORD,
      projectName: env.OS_PROJECT_NAME ?? 'admin',
      userDomain: env.OS_USER_DOMAIN_NAME ?? 'Default',
      projectDomain: env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
    };
  }
  const file = join(resolve(config.dataDir), 'secrets', 'admin-password');
  let password = config.adminPassword;
  if (password === undefined) {
    try {
      password = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw bad(`report: no credentials: set OS_USERNAME/OS_PASSWORD (and OS_PROJECT_NAME), or run it where the platform's data folder is (${file}: ${errorMessage(err)})`);
    }
  }
  return { authUrl: `${baseUrl}/identity/v3`, username: 'admin', password, projectName: 'admin', userDomain: 'Default', projectDomain: 'Default' };
}

async function token(c: Credentials): Promise<string> {
  const res = await fetch(`${c.authUrl.replace(/\/$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.username, domain: { name: c.userDomain }, password: c.password } } },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomain } } },
      },
    }),
  });
  const subject = res.headers.get('x-subject-token');
  if (res.status !== 201 || !subject) throw new CumulusError('CUMULUS_CLI_AUTH_FAILED', `report: Keystone at ${c.authUrl} refused ${c.username}@${c.projectName} (${res.status}); check the credentials`);
  return subject;
}

export async function reportCommand(argv: string[], config: CumulusConfig, io: ReportCommandIo): Promise<void> {
  const [kind, ...rest] = argv;
  if (kind !== 'capacity') throw bad(`report: expected the report "capacity", got "${kind ?? ''}"`);
  const { values } = parseArgs({
    args: rest,
    options: {
      format: { type: 'string', default: 'html' },
      output: { type: 'string' },
      scope: { type: 'string', default: 'cloud' },
      'horizon-days': { type: 'string' },
      'history-days': { type: 'string' },
      url: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw bad(`report capacity: --format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  if (!values.output) throw bad('report capacity: --output FILE is required (where to write the report)');
  const baseUrl = (values.url ?? io.env.CUMULUS_URL ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '');
  const query = new URLSearchParams({ format, scope: values.scope as string });
  if (values['horizon-days']) query.set('horizon_days', values['horizon-days']);
  if (values['history-days']) query.set('history_days', values['history-days']);
  io.say(`report capacity: signing in at ${baseUrl}`);
  const auth = await token(credentials(config, baseUrl, io.env)).catch((err: unknown) => {
    if (err instanceof CumulusError) throw err;
    throw new CumulusError('CUMULUS_CLI_UNREACHABLE', `report: no Cumulus answers at ${baseUrl} (${errorMessage(err)}); start it (cumulus up) or pass --url`);
  });
  io.say(`report capacity: building the ${format} report for ${values.scope} (forecasts take a few seconds)`);
  const res = await fetch(`${baseUrl}/capacity/v1/report?${query}`, { headers: { 'x-auth-token': auth } });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new CumulusError('CUMULUS_CLI_REPORT_FAILED', `report capacity: ${res.status}: ${body.toString('utf8').slice(0, 500)}`);
  writeFileSync(values.output, body);
  io.say(`report capacity: wrote ${values.output} (${body.length.toLocaleString('en-US')} bytes)`);
}
