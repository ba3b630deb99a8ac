/** Swift's renderings of one instant (epoch milliseconds from the injected clock). */

/** `X-Timestamp`: swift's Timestamp.normal, seconds with 5 decimals, zero-padded to 16 characters. */
export function xTimestamp(ms: number): string {
  return (ms / 1000).toFixed(5).padStart(16, '0');
}

/** `Last-Modified`: swift rounds the timestamp up to the next whole second before formatting. */
export function lastModified(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toUTCString();
}

/** `last_modified` in listings: Timestamp.isoformat, naive UTC and always six fractional digits. */
export function listingTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000`;
}

/** Python's `datetime.utcnow().isoformat()`: naive, and without a fraction when it is zero. */
export function pythonIsoformat(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.slice(0, 19) : `${iso.slice(0, 23)}000`;
}
