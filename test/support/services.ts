import { connect } from 'node:net';

/** True in CI: a test that needs a service must then fail when it is missing, never skip. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());

/** Whether something accepts TCP connections at host:port within the timeout. */
export function reachable(hostPort: string, timeoutMs = 1500): Promise<boolean> {
  const [host, port] = hostPort.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const amqpHostPort = () => {
  const url = new URL(AMQP_URL);
  return `${url.hostname}:${url.port || '5672'}`;
};

/**
 * Decides whether a suite that needs `service` runs: outside CI a missing service skips
 * it (with the reason printed); in CI it runs anyway, so its first test fails loudly.
 */
export async function serviceGate(service: string, hostPort: string): Promise<{ run: boolean; available: boolean }> {
  const available = await reachable(hostPort);
  if (!available && !IN_CI) process.stderr.write(`[skip] ${service} is not reachable at ${hostPort}; start it to run these tests (CI fails instead of skipping)\n`);
  return { run: available || IN_CI, available };
}
