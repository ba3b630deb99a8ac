/**
 * Targets as logs and the delivery log may show them. A Slack incoming-webhook path and a
 * webhook's path or query are secrets (whoever knows them can post), and so is a PagerDuty
 * routing key: only scheme and host survive.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol === 'log:') return 'log://';
    const hidden = u.pathname !== '/' && u.pathname !== '' ? '/[redacted]' : '';
    return `${u.protocol}//${u.host}${hidden}${u.search ? '?[redacted]' : ''}`;
  } catch {
    return '[unparseable url]';
  }
}

/** Every place a secret can hide in an error text: strip it before the text is logged or stored. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
