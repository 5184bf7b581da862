import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AuditFile, AuditRing, auditRecord } from '../../src/lib/audit';
import { maskVehicle, redactObject, redactText } from '../../src/lib/mask';

describe('lib/audit and lib/mask', () => {
  it('masks the vehicle and redacts credentials in the detail', () => {
    const r = auditRecord(
      { nodeId: 'n1', nodeType: 'ford-status', vehicleId: '1FMCU9J98MUA12345', action: 'status.read', scope: 'read:status', outcome: 'failed', detail: 'GET /x?code=abc123&state=1 with Bearer eyJabc.def', httpStatus: 401 },
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(r).to.deep.equal({
      time: '2026-01-02T03:04:05.000Z',
      nodeId: 'n1',
      nodeType: 'ford-status',
      nodeName: '',
      vehicle: '…2345',
      action: 'status.read',
      scope: 'read:status',
      outcome: 'failed',
      detail: 'GET /x?code=[redacted]&state=1 with Bearer [redacted]',
      httpStatus: 401,
    });
  });

  it('masks ids and redacts secret keys deeply', () => {
    expect(maskVehicle('abcdef0123456789abcdef0123456789')).to.equal('…6789');
    expect(maskVehicle(undefined)).to.equal('');
    expect(redactObject({ a: { access_token: 'x', clientSecret: 'y', keep: 'Bearer abc' } })).to.deep.equal({ a: { access_token: '[redacted]', clientSecret: '[redacted]', keep: 'Bearer [redacted]' } });
    expect(redactText('https://h/cb?code=xyz&state=ab')).to.equal('https://h/cb?code=[redacted]&state=ab');
  });

  it('keeps the newest records in the ring', () => {
    const ring = new AuditRing(2);
    for (const detail of ['a', 'b', 'c']) ring.add(auditRecord({ nodeId: 'n', nodeType: 't', action: 'lock', outcome: 'ok', detail }));
    expect(ring.list().map((r) => r.detail)).to.deep.equal(['c', 'b']);
  });

  it('appends JSON lines in order, even when writes overlap', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-audit-'));
    const file = new AuditFile(path.join(dir, 'sub', 'audit.jsonl'));
    await Promise.all(Array.from({ length: 50 }, (_, i) => file.append(auditRecord({ nodeId: 'n', nodeType: 't', action: 'lock', outcome: 'ok', detail: String(i) }))));
    const lines = fs.readFileSync(file.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { detail: string });
    expect(lines.map((l) => l.detail)).to.deep.equal(Array.from({ length: 50 }, (_, i) => String(i)));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a failed write instead of throwing', async () => {
    const errors: Error[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-audit-'));
    const notADir = path.join(dir, 'plain-file');
    fs.writeFileSync(notADir, '');
    const file = new AuditFile(path.join(notADir, 'audit.jsonl'), (e) => errors.push(e));
    await file.append(auditRecord({ nodeId: 'n', nodeType: 't', action: 'lock', outcome: 'ok', detail: 'x' }));
    expect(errors).to.have.length(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
