import { describe, expect, it } from 'vitest';
import { cidrsOverlap, defaultPools, firstFreeAddress, formatCidr, formatIp, normalizeIp, parseCidr, parseIp } from './cidr.ts';

const pools = (cidr: string, gateway: string | null) => {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`bad cidr ${cidr}`);
  return defaultPools(parsed, gateway === null ? null : (parseIp(gateway)?.value ?? null)).map((r) => `${formatIp(r.start, parsed.version)}-${formatIp(r.end, parsed.version)}`);
};

describe('neutron address arithmetic', () => {
  it('parses and prints IPv4 and IPv6 canonically (RFC 5952 for IPv6)', () => {
    expect(normalizeIp('10.0.0.7')).toBe('10.0.0.7');
    expect(normalizeIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normalizeIp('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(normalizeIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('1:0:1:1:1:1:1:1')).toBe('1:0:1:1:1:1:1:1');
    expect(normalizeIp('::')).toBe('::');
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    for (const bad of ['10.0.0.256', '10.0.0', '1::2::3', 'fe80::1::', 'host', 42]) expect(parseIp(bad)).toBeNull();
  });

  it('reads a CIDR, keeping the host bits a client wrote so they can be refused', () => {
    const cidr = parseCidr('10.0.0.5/24');
    expect(cidr && formatCidr(cidr)).toBe('10.0.0.0/24');
    expect(cidr?.given).not.toBe(cidr?.network);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0')).toBeNull();
    expect(cidrsOverlap(parseCidr('10.0.0.0/24') as never, parseCidr('10.0.0.128/25') as never)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.0.0/24') as never, parseCidr('10.0.1.0/24') as never)).toBe(false);
  });

  it('computes the allocation pools Neutron does: no network, broadcast or gateway address', () => {
    expect(pools('172.24.4.0/24', '172.24.4.1')).toEqual(['172.24.4.2-172.24.4.254']);
    expect(pools('10.0.0.0/24', '10.0.0.100')).toEqual(['10.0.0.1-10.0.0.99', '10.0.0.101-10.0.0.254']);
    expect(pools('10.0.0.0/24', null)).toEqual(['10.0.0.1-10.0.0.254']);
    expect(pools('10.0.0.0/31', null)).toEqual([]);
    // IPv6 has no broadcast address: the last one is in the pool.
    expect(pools('2001:db8::/64', '2001:db8::1')).toEqual(['2001:db8::2-2001:db8::ffff:ffff:ffff:ffff']);
  });

  it('hands out the lowest free address and says when a pool is full', () => {
    const cidr = parseCidr('10.0.0.0/29') as NonNullable<ReturnType<typeof parseCidr>>;
    const ranges = defaultPools(cidr, cidr.network + 1n);
    expect(firstFreeAddress(ranges, 4, new Set())).toBe('10.0.0.2');
    expect(firstFreeAddress(ranges, 4, new Set(['10.0.0.2', '10.0.0.3']))).toBe('10.0.0.4');
    expect(firstFreeAddress(ranges, 4, new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']))).toBeNull();
  });
});
