/**
 * IPv4/IPv6 address arithmetic for IPAM, on bigints so one code path serves both
 * versions. Addresses are formatted canonically (dotted quad; RFC 5952 for IPv6, as
 * netaddr prints them) because allocations are compared as strings.
 */

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** The address as written, host bits included: Neutron refuses such a CIDR. */
  given: bigint;
}

export interface AddressRange {
  start: bigint;
  end: bigint;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      // An embedded IPv4 address may end the text (::ffff:192.0.2.1).
      if (piece.includes('.') && index === pieces.length - 1) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
      groups.push(parseInt(piece, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

export function parseIp(text: unknown): IpAddress | null {
  if (typeof text !== 'string') return null;
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  return v6 === null ? null : { version: 6, value: v6 };
}

export function formatIp(value: bigint, version: IpVersion): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  // RFC 5952: compress the longest run of two or more zero groups (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical text of an address, or null when it is not one. */
export function normalizeIp(text: unknown): string | null {
  const ip = parseIp(text);
  return ip ? formatIp(ip.value, ip.version) : null;
}

export function parseCidr(text: unknown): Cidr | null {
  if (typeof text !== 'string') return null;
  const [address, prefixText, ...rest] = text.split('/');
  if (rest.length > 0 || prefixText === undefined || !/^\d{1,3}$/.test(prefixText)) return null;
  const ip = parseIp(address);
  if (!ip) return null;
  const prefix = Number(prefixText);
  if (prefix > BITS[ip.version]) return null;
  const hostBits = BigInt(BITS[ip.version] - prefix);
  return { version: ip.version, network: (ip.value >> hostBits) << hostBits, prefix, given: ip.value };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.network, cidr.version)}/${cidr.prefix}`;
}

export function lastAddress(cidr: Cidr): bigint {
  return cidr.network + (1n << BigInt(BITS[cidr.version] - cidr.prefix)) - 1n;
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return ip.version === cidr.version && ip.value >= cidr.network && ip.value <= lastAddress(cidr);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/**
 * Neutron's default allocation pools (neutron/ipam/utils.py generate_pools): every
 * address but the network address, the IPv4 broadcast address and the gateway.
 */
export function defaultPools(cidr: Cidr, gateway: bigint | null): AddressRange[] {
  const first = cidr.network;
  const last = lastAddress(cidr);
  if (first === last) return [{ start: first, end: last }];
  const start = first + 1n;
  const end = last - (cidr.version === 4 ? 1n : 0n);
  if (start >= end) return [];
  if (gateway === null || gateway < start || gateway > end) return [{ start, end }];
  return [
    ...(gateway > start ? [{ start, end: gateway - 1n }] : []),
    ...(gateway < end ? [{ start: gateway + 1n, end }] : []),
  ];
}

/**
 * The lowest address of the pools not in `used`. Allocated addresses are few next to
 * a pool's size, so the walk stops after at most `used.size + 1` steps per pool.
 */
export function firstFreeAddress(pools: readonly AddressRange[], version: IpVersion, used: ReadonlySet<string>): string | null {
  for (const pool of pools) {
    for (let value = pool.start; value <= pool.end; value += 1n) {
      const text = formatIp(value, version);
      if (!used.has(text)) return text;
    }
  }
  return null;
}
