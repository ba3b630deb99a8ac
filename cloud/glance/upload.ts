import { createHash, type Hash } from 'node:crypto';
import { HASH_ALGORITHM } from './config.ts';

/** What an upload leaves on the image: glance keeps the bytes in a store, we keep only these. */
export class UploadedData {
  constructor(
    readonly size: number,
    /** md5 hexdigest, glance's legacy `checksum`. */
    readonly checksum: string,
    /** `os_hash_value`, computed with HASH_ALGORITHM. */
    readonly hashValue: string,
    /** Virtual disk size from a qcow2 header, when the data starts with one. */
    readonly qcow2VirtualSize: number | null,
  ) {}
}

const QCOW2_MAGIC = 0x514649fb;
/** A qcow2 header holds the virtual size (uint64, big-endian) at byte 24. */
const QCOW2_HEADER_BYTES = 32;

/** Hashes image data as it streams in, so an upload of any size costs constant memory. */
export class DataDigest {
  private readonly md5: Hash = createHash('md5');
  private readonly multihash: Hash = createHash(HASH_ALGORITHM);
  private size = 0;
  private head = Buffer.alloc(0);

  update(chunk: Buffer): void {
    this.md5.update(chunk);
    this.multihash.update(chunk);
    this.size += chunk.length;
    if (this.head.length < QCOW2_HEADER_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, QCOW2_HEADER_BYTES - this.head.length)]);
  }

  finish(): UploadedData {
    const isQcow2 = this.head.length >= QCOW2_HEADER_BYTES && this.head.readUInt32BE(0) === QCOW2_MAGIC;
    return new UploadedData(this.size, this.md5.digest('hex'), this.multihash.digest('hex'), isQcow2 ? Number(this.head.readBigUInt64BE(24)) : null);
  }
}

/** Reads a request body to its end through a DataDigest. */
export async function digestStream(stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<UploadedData> {
  const digest = new DataDigest();
  for await (const chunk of stream) digest.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return digest.finish();
}
