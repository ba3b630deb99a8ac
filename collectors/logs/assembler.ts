import type { LogRecord } from '../../core/index.ts';
import { toLogRecord, type LineFields } from './line.ts';
import { readLogLine } from './parser.ts';

/** A finished record and the byte offset where it starts in its file (what the offsets commit to). */
export interface AssembledRecord {
  record: LogRecord;
  offset: number;
}

export interface AssemblerSource {
  host: string;
  /** The file within the host's folder: it names the record ids. */
  file: string;
  /** The file's process: `nova-compute` for nova-compute.log. */
  service: string;
}

interface OpenRecord {
  fields: LineFields;
  offset: number;
  firstLine: string;
  lines: string[];
  bytes: number;
}

/**
 * Turns one file's lines into records: a head line opens a record, continuation lines
 * (a multi-line message, oslo.log's traceback lines with the same pid and logger) are
 * appended to it. The last record stays open until the caller says the file went quiet
 * (finish()), because its traceback may still be on its way.
 */
export class RecordAssembler {
  private open: OpenRecord | null = null;
  /** Fields of the record last closed: continuation lines arriving after it was handed on carry them. */
  private last: LineFields | null = null;
  /** Lines that continue nothing (a file of an unknown format): counted, not guessed at. */
  unreadLines = 0;
  /** Continuation lines cut off by maxMessageBytes. */
  cutLines = 0;

  constructor(
    private readonly source: AssemblerSource,
    private readonly maxMessageBytes: number,
  ) {}

  /** Where the open record starts, or null: the offsets must not move past it. */
  get openOffset(): number | null {
    return this.open?.offset ?? null;
  }

  /** Feeds one complete line (without its newline) that starts at `offset`; returns the records it closed. */
  push(line: string, offset: number, now: Date): AssembledRecord[] {
    const read = readLogLine(line, now);
    if (read.kind === 'head') return this.start(read.fields, offset, line);
    if (read.kind === 'exception') {
      const previous = this.open?.fields ?? this.last;
      const continues = previous !== null && previous.pid === read.fields.pid && previous.logger === read.fields.logger;
      if (!continues) return this.start(read.fields, offset, line);
      if (this.open) this.append(this.open, read.fields.message);
      else this.open = this.orphan(previous, read.fields.message, offset, line);
      return [];
    }
    if (this.open) this.append(this.open, line);
    else if (this.last && line !== '') this.open = this.orphan(this.last, line, offset, line);
    else if (line !== '') this.unreadLines += 1;
    return [];
  }

  /** Closes the open record: its file went quiet, was rotated, or the tailer stops. */
  finish(): AssembledRecord[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    // oslo.log's traceback ends with an empty prefixed line: trailing blank lines say nothing.
    const message = open.lines.join('\n').replace(/(\n[ \t]*)+$/, '');
    const fields = { ...open.fields, message };
    this.last = fields;
    return [{ record: toLogRecord(fields, { ...this.source, offset: open.offset }, open.firstLine), offset: open.offset }];
  }

  private start(fields: LineFields, offset: number, line: string): AssembledRecord[] {
    const closed = this.finish();
    this.open = { fields, offset, firstLine: line, lines: [fields.message], bytes: Buffer.byteLength(fields.message) };
    return closed;
  }

  /** Continuation lines whose record was already handed on: a record of their own, with that record's fields. */
  private orphan(previous: LineFields, text: string, offset: number, line: string): OpenRecord {
    return { fields: { ...previous, message: text }, offset, firstLine: line, lines: [text], bytes: Buffer.byteLength(text) };
  }

  private append(open: OpenRecord, text: string): void {
    const bytes = Buffer.byteLength(text) + 1;
    if (open.bytes + bytes > this.maxMessageBytes) {
      this.cutLines += 1;
      return;
    }
    open.lines.push(text);
    open.bytes += bytes;
  }
}
