import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, openstackMessage } from './cloud-client.ts';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = Fastify();
  app.get('/ok', async () => ({ flavors: [] }));
  app.get('/nova-error', async (_req, reply) => reply.code(409).send({ conflictingRequest: { code: 409, message: 'Cannot delete while building' } }));
  app.get('/haproxy', async (_req, reply) => reply.code(503).type('text/html').send('<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n'));
  app.get('/slow', async () => new Promise((resolve) => setTimeout(() => resolve({}), 2_000)));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
});

describe('OpenStack calls as named steps', () => {
  it('parses the JSON answer of an expected status', async () => {
    const answer = await call(fetch, 'list flavors', `${base}/ok`, { token: 't', expect: [200] });
    expect(answer).toMatchObject({ status: 200, body: { flavors: [] } });
  });

  it('refuses another status with the step, the URL and the service message', async () => {
    await expect(call(fetch, 'delete server', `${base}/nova-error`)).rejects.toMatchObject({ code: 'CUMULUS_CHECK_STEP_FAILED', status: 409, step: 'delete server', message: `delete server: GET ${base}/nova-error: expected 2xx, got 409 (Cannot delete while building)` });
    await expect(call(fetch, 'GET compute endpoint', `${base}/haproxy`, { expect: (s) => s < 500 })).rejects.toMatchObject({ message: `GET compute endpoint: GET ${base}/haproxy: expected an answer below 500, got 503 (503 Service Unavailable No server is available to handle this request.)` });
    expect((await call(fetch, 'GET', `${base}/nowhere`, { expect: (s) => s < 500 })).status).toBe(404);
  });

  it('tells a timeout from an unreachable server', async () => {
    await expect(call(fetch, 'slow step', `${base}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ code: 'CUMULUS_CHECK_TIMEOUT', message: `slow step: GET ${base}/slow did not answer in time` });
    await expect(call(fetch, 'login', 'http://127.0.0.1:9/identity/v3/auth/tokens')).rejects.toMatchObject({ code: 'CUMULUS_CHECK_STEP_FAILED', message: expect.stringMatching(/^login: GET http:\/\/127\.0\.0\.1:9\/identity\/v3\/auth\/tokens could not be reached/) });
  });

  it('reads the message of Keystone, Nova and Cinder error bodies', () => {
    expect(openstackMessage('{"error": {"code": 401, "message": "The request you have made requires authentication."}}')).toBe('The request you have made requires authentication.');
    expect(openstackMessage('{"itemNotFound": {"code": 404, "message": "Flavor 9 could not be found."}}')).toBe('Flavor 9 could not be found.');
    expect(openstackMessage('x'.repeat(300))).toHaveLength(200);
  });
});
