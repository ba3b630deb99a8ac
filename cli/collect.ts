import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_METERS_FILE, MeterMapper, loadMeterDefinitions, mapCapture } from '../collectors/index.ts';

/** Samples mapped offline are signed with a throwaway key: they are for reading, not for ingest. */
const OFFLINE_SIGNING_KEY = 'offline-collect-not-for-ingest';

/**
 * `cumulus collect --input FILE --output FILE [--meters FILE] [--dead FILE]`: maps a
 * captured notification stream to Ceilometer sample JSON lines with no service running.
 * Returns the process exit code (1 when --strict and a line was refused).
 */
export async function collectCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { input: { type: 'string' }, output: { type: 'string' }, meters: { type: 'string' }, dead: { type: 'string' }, strict: { type: 'boolean' } },
    strict: true,
  });
  if (!values.input || !values.output) throw new Error('collect needs --input FILE (JSON lines of captured notifications) and --output FILE (samples, JSON lines)');
  const mapper = new MeterMapper(loadMeterDefinitions(values.meters ?? DEFAULT_METERS_FILE), OFFLINE_SIGNING_KEY);
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(values.input), crlfDelay: Infinity })) lines.push(line);
  const result = mapCapture(lines, mapper);
  writeFileSync(values.output, result.samples.map((s) => JSON.stringify(s)).join('\n') + (result.samples.length ? '\n' : ''));
  if (values.dead) writeFileSync(values.dead, result.refused.map((r) => JSON.stringify(r)).join('\n') + (result.refused.length ? '\n' : ''));
  for (const refusal of result.refused.slice(0, 20)) process.stderr.write(`line ${refusal.line}: ${refusal.code}: ${refusal.reason}\n`);
  if (result.refused.length > 20) process.stderr.write(`... and ${result.refused.length - 20} more refused line(s)${values.dead ? ` (all in ${values.dead})` : ''}\n`);
  process.stdout.write(`${result.lines} message(s) read, ${result.samples.length} sample(s) written to ${values.output}, ${result.refused.length} refused\n`);
  return values.strict && result.refused.length > 0 ? 1 : 0;
}
