/** The token cache's timing against a scripted Keystone whose clock is far from ours. */
import { describe, expect, it } from 'vitest';
import { ManualClock, silentLogger } from '../../core/index.ts';
import { resolveHttpComputeSourceConfig } from './config.ts';
import { createTokenCache } from './keystone-token.ts';

const MINUTE = 60_000;

/** A Keystone that issues `token-N` valid for `lifetimeMs`, stamped with its own (skewed) clock. */
function scriptedKeystone(lifetimeMs: number, keystoneNowMs: number) {
  const calls: Array<{ url: string; body: unknown }> = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), body: JSON.parse(String(init?.body)) });
    const issued = new Date(keystoneNowMs).toISOString().replace('Z', '000Z');
    const expires = new Date(keystoneNowMs + lifetimeMs).toISOString().replace('Z', '000Z');
    await new Promise((resolve) => setTimeout(resolve, 5));
    return new Response(JSON.stringify({ token: { issued_at: issued, expires_at: expires } }), { status: 201, headers: { 'x-subject-token': `token-${calls.length}` } });
  };
  return { calls, fetchImpl };
}

const config = (fields: { tokenRefreshMarginMs?: number } = {}) =>
  resolveHttpComputeSourceConfig({ authUrl: 'http://keystone.test/identity/v3/', adminUrl: 'http://keystone.test/cloud-admin/v1', username: 'admin', password: 'secret-password', ...fields });

describe('Keystone token cache', () => {
  it('logs in with a project-scoped password request, once for concurrent callers', async () => {
    const clock = new ManualClock(0);
    const keystone = scriptedKeystone(60 * MINUTE, Date.parse('2026-01-01T00:00:00Z'));
    const tokens = createTokenCache(config(), { clock, fetch: keystone.fetchImpl, logger: silentLogger() });
    expect(await Promise.all([tokens.get(), tokens.get(), tokens.get()])).toEqual(['token-1', 'token-1', 'token-1']);
    expect(keystone.calls).toEqual([
      {
        url: 'http://keystone.test/identity/v3/auth/tokens?nocatalog',
        body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'secret-password' } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } },
      },
    ]);
  });

  it("counts the token's lifetime on our clock, whatever Keystone's clock says", async () => {
    // Keystone's clock is a year behind ours: its expires_at is long past by our clock, yet the token is fresh.
    const clock = new ManualClock(Date.parse('2027-01-01T00:00:00Z'));
    const keystone = scriptedKeystone(60 * MINUTE, Date.parse('2026-01-01T00:00:00Z'));
    const tokens = createTokenCache(config({ tokenRefreshMarginMs: 5 * MINUTE }), { clock, fetch: keystone.fetchImpl, logger: silentLogger() });
    expect(await tokens.get()).toBe('token-1');
    clock.advance(54 * MINUTE);
    expect(await tokens.get()).toBe('token-1');
    clock.advance(MINUTE);
    expect(await tokens.get()).toBe('token-2');
  });

  it('uses half the lifetime when the margin is longer than the token lives, and forgets only the current token', async () => {
    const clock = new ManualClock(0);
    const keystone = scriptedKeystone(4 * MINUTE, 0);
    const tokens = createTokenCache(config({ tokenRefreshMarginMs: 5 * MINUTE }), { clock, fetch: keystone.fetchImpl, logger: silentLogger() });
    expect(await tokens.get()).toBe('token-1');
    clock.advance(2 * MINUTE - 1);
    expect(await tokens.get()).toBe('token-1');
    clock.advance(1);
    expect(await tokens.get()).toBe('token-2');
    tokens.invalidate('token-1');
    expect(await tokens.get()).toBe('token-2');
    tokens.invalidate('token-2');
    expect(await tokens.get()).toBe('token-3');
  });

  it('refuses a token answer without the header or the times', async () => {
    const clock = new ManualClock(0);
    const bare: typeof fetch = async () => new Response(JSON.stringify({ token: {} }), { status: 201 });
    const tokens = createTokenCache(config(), { clock, fetch: bare, logger: silentLogger() });
    await expect(tokens.get()).rejects.toMatchObject({ code: 'CUMULUS_POLLSTER_BAD_RESPONSE' });
    const down: typeof fetch = async () => new Response('<html>bad gateway</html>', { status: 502 });
    await expect(createTokenCache(config(), { clock, fetch: down, logger: silentLogger() }).get()).rejects.toMatchObject({ code: 'CUMULUS_POLLSTER_SOURCE_UNAVAILABLE', status: 502 });
  });
});
