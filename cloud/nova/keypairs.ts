import { createHash, generateKeyPairSync } from 'node:crypto';
import type { Clock, StateDatabase } from '../../core/index.ts';
import { badRequest, conflict, notFound } from '../errors.ts';

export interface Keypair {
  name: string;
  type: string;
  public_key: string;
  fingerprint: string;
  user_id: string;
  created_at: string;
}

/** An OpenSSH wire field: 4-byte big-endian length, then the bytes. */
function sshField(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/** MD5 fingerprint of the key blob, colon-separated, as Nova reports it. */
function fingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) throw badRequest('Keypair data is invalid: public_key must be "<type> <base64 key> [comment]"');
  const digest = createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex');
  return digest.match(/.{2}/g)?.join(':') ?? digest;
}

/** Nova's os-keypairs: per-user SSH keys; generated (ed25519) when no public key is given. */
export class Keypairs {
  constructor(
    private readonly db: StateDatabase,
    private readonly clock: Clock,
  ) {}

  list(userId: string): Keypair[] {
    return this.db.prepare('SELECT * FROM keypairs WHERE user_id = ? ORDER BY name').all(userId) as Keypair[];
  }

  get(userId: string, name: string): Keypair {
    const found = this.db.prepare('SELECT * FROM keypairs WHERE user_id = ? AND name = ?').get(userId, name) as Keypair | undefined;
    if (!found) throw notFound(`Keypair ${name} not found for user ${userId}`);
    return found;
  }

  create(userId: string, input: { name: string; public_key?: string; type?: string }): Keypair & { private_key?: string } {
    if (!/^[A-Za-z0-9 _.@-]{1,255}$/.test(input.name)) throw badRequest('Keypair data is invalid: Keypair name contains unsafe characters');
    if (this.db.prepare('SELECT 1 FROM keypairs WHERE user_id = ? AND name = ?').get(userId, input.name)) throw conflict(`Key pair '${input.name}' already exists.`);
    let publicKey = input.public_key;
    let privateKey: string | undefined;
    if (!publicKey) {
      const pair = generateKeyPairSync('ed25519');
      const raw = Buffer.from((pair.publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
      publicKey = `ssh-ed25519 ${Buffer.concat([sshField(Buffer.from('ssh-ed25519')), sshField(raw)]).toString('base64')} Generated-by-Nova`;
      privateKey = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    }
    const keypair: Keypair = { name: input.name, type: input.type ?? 'ssh', public_key: publicKey.trim(), fingerprint: fingerprint(publicKey), user_id: userId, created_at: this.clock.now().toISOString() };
    this.db.prepare('INSERT INTO keypairs (user_id, name, type, public_key, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(userId, keypair.name, keypair.type, keypair.public_key, keypair.fingerprint, keypair.created_at);
    return privateKey ? { ...keypair, private_key: privateKey } : keypair;
  }

  delete(userId: string, name: string): void {
    if (this.db.prepare('DELETE FROM keypairs WHERE user_id = ? AND name = ?').run(userId, name).changes === 0) throw notFound(`Keypair ${name} not found for user ${userId}`);
  }
}
