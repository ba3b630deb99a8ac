/**
 * A real HTTP receiver for the routing and receivers tests: records every request and
 * answers with the statuses it is told, in order, then 200. Test support only.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface CaptureServer {
  url(path: string): string;
  readonly requests: CapturedRequest[];
  /** Requests to `path`, bodies parsed as JSON. */
  bodies(path: string): unknown[];
  /** The next answers to `path` (then 200). */
  answer(path: string, ...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const queues = new Map<string, number[]>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      const status = queues.get(path.split('?')[0] as string)?.shift() ?? 200;
      requests.push({ path, headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status >= 400 ? 'receiver failure' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    bodies: (path) => requests.filter((r) => r.path.split('?')[0] === path).map((r) => JSON.parse(r.body) as unknown),
    answer: (path, ...statuses) => queues.set(path, [...(queues.get(path) ?? []), ...statuses]),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
