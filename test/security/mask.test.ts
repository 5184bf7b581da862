import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { auditRecord } from '../../src/lib/audit';
import { MAX_TEXT, printable, redactText } from '../../src/lib/mask';
import { describeSecurity } from '../helpers/security-suite';

describeSecurity('security: free text that leaves a node (lib/mask)', function () {
  const opaque = randomBytes(32).toString('base64url');
  const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'owner-1', exp: 1_900_000_000 })).toString('base64url')}.${randomBytes(64).toString('base64url')}`;

  it('writes control characters, line separators, bidi overrides and invisible marks out, so a quoted value cannot start a log line of its own', () => {
    const forged = 'got "lock\n1 Dec 21:00:00 - [error] forged\r\u0000\u001b[31m\u0085\u2028\u2029\u202etxt.exe\u200b\ufeff"';
    const out = redactText(forged);
    // eslint-disable-next-line no-control-regex -- the characters that must be gone
    expect(out).to.not.match(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]/);
    expect(out).to.equal('got "lock\\n1 Dec 21:00:00 - [error] forged\\r\\u0000\\u001b[31m\\u0085\\u2028\\u2029\\u202etxt.exe\\u200b\\ufeff"');
    expect(printable('Ford Mustang Mach-E · 62% · 21 °C · café ✓')).to.equal('Ford Mustang Mach-E · 62% · 21 °C · café ✓');
  });

  it('removes anything shaped like a token a provider quotes back, and keeps ids, UUIDs and words', () => {
    expect(redactText(`the token ${opaque} was refused`)).to.equal('the token [redacted] was refused');
    expect(redactText(`invalid id_token "${jwt}"`)).to.equal('invalid id_token "[redacted]"');
    expect(redactText('Bearer abc.def')).to.equal('Bearer [redacted]');
    const kept = 'POST /v1/vehicles/…0579/startEngine: command 2f0c1e9a-8b7d-4c3e-9f10-1a2b3c4d5e6f for Application-Id afdc085b-377a-4351-b23e-5e1d35fb3700, B2C_1A_FCON_AUTHORIZE';
    expect(redactText(kept)).to.equal(kept);
    expect(redactText(`GET /v3/vehicles/${'ab12'.repeat(8)}`)).to.equal('GET /v3/vehicles/…ab12');
  });

  it(`cuts a huge text to ${MAX_TEXT} characters, after redacting it, so no token survives as a stub at the cut`, () => {
    const text = `${'x '.repeat(MAX_TEXT / 2 - 10)}${opaque} and more`;
    const out = redactText(text);
    expect(out.length).to.be.at.most(MAX_TEXT + 1);
    expect(out).to.not.include(opaque.slice(0, 12));
    expect(redactText('y'.repeat(1 << 20)).length).to.equal(MAX_TEXT + 1);
  });

  it('applies to every audit record detail', () => {
    const record = auditRecord({ nodeId: 'n', nodeType: 'ford-lock', action: 'lock', outcome: 'failed', detail: `POST /v1/vehicles/${'cd34'.repeat(8)}/lock: token ${opaque}\n[error] forged` });
    expect(record.detail).to.equal('POST /v1/vehicles/…cd34/lock: token [redacted]\\n[error] forged');
  });
});
