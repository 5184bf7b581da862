import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Tokens kept by the kit itself, one file per account in the Node-RED user
 * dir. Node-RED writes credentials only on deploy, so a refresh token that
 * rotates at runtime must be saved here at once or a restart loses it.
 * Written atomically (temp file + rename), mode 0600, AES-256-GCM encrypted
 * when Node-RED has a credentialSecret.
 */
export interface StoredTokens {
  accessToken: string;
  tokenType: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms the access token was received; with `expiresAt`, its lifetime. */
  issuedAt?: number;
  refreshToken?: string;
  /** Scopes the provider granted, as it named them. */
  grantedScopes?: string[];
  /** Epoch ms of the authorization. */
  authorizedAt: number;
  /** Who authorized, for the editor; never a secret. */
  subject?: string;
}

interface EncryptedFile {
  v: 1;
  alg: 'aes-256-gcm';
  iv: string;
  tag: string;
  data: string;
}

export class TokenStore {
  readonly file: string;
  private readonly key?: Buffer;

  constructor(dir: string, accountId: string, secret?: string) {
    const safeId = accountId.replace(/[^A-Za-z0-9_.-]/g, '_');
    this.file = path.join(dir, `tokens-${safeId}.json`);
    if (secret) this.key = createHash('sha256').update(secret).digest();
  }

  load(): StoredTokens | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(text) as StoredTokens | EncryptedFile;
    if ('alg' in parsed) {
      if (!this.key) throw new Error('the token file is encrypted but no credentialSecret is set');
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(parsed.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(parsed.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(parsed.data, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as StoredTokens;
    }
    return parsed;
  }

  save(tokens: StoredTokens): void {
    const body = this.key ? JSON.stringify(this.encrypt(JSON.stringify(tokens))) : JSON.stringify(tokens);
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, this.file);
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }

  private encrypt(plain: string): EncryptedFile {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key as Buffer, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { v: 1, alg: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }
}
