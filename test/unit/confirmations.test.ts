import { expect } from 'chai';
import { Confirmations, confirmationRefusal, type ConfirmationAnswer } from '../../src/lib/confirmations';

const SEC = 1000;
const MIN = 60 * SEC;

interface Parked {
  action: string;
  vehicleId: string;
}

describe('lib/confirmations', () => {
  let now: number;
  let book: Confirmations<Parked>;
  const parked: Parked = { action: 'unlock', vehicleId: '97da2849d73eb438a907d090402c802d' };

  const refusedWith = (answer: ConfirmationAnswer<Parked>): string => {
    expect(answer.ok, 'expected the confirmation to be refused').to.equal(false);
    return (answer as { ok: false; reason: string }).reason;
  };

  beforeEach(() => {
    now = Date.UTC(2026, 10, 25, 8, 0, 0);
    book = new Confirmations<Parked>(() => now);
  });

  it('issues a random url-safe id that expires after the window', () => {
    const a = book.issue(parked, 60);
    const b = book.issue(parked, 60);
    expect(a.id).to.match(/^[A-Za-z0-9_-]{22,}$/);
    expect(b.id).to.match(/^[A-Za-z0-9_-]{22,}$/);
    expect(a.id).to.not.equal(b.id);
    expect(a.expiresAt).to.equal(now + 60 * SEC);
    expect(a.request).to.equal(parked);
    expect(book.size).to.equal(2);

    const ids = new Set(Array.from({ length: 50 }, () => book.issue(parked, 60).id));
    expect(ids.size).to.equal(50);
  });

  it('keeps a window of at least 1 s', () => {
    expect(book.issue(parked, 0).expiresAt).to.equal(now + 1 * SEC);
    expect(book.issue(parked, -5).expiresAt).to.equal(now + 1 * SEC);
  });

  it('takes the parked request once, by id or by { id }', () => {
    const a = book.issue(parked, 60);
    const b = book.issue({ action: 'remote-start', vehicleId: parked.vehicleId }, 60);

    const first = book.take(a.id);
    expect(first).to.deep.equal({ ok: true, request: parked, id: a.id });
    expect((first as { request: Parked }).request).to.equal(parked);
    expect(refusedWith(book.take(a.id))).to.equal('used');
    expect(refusedWith(book.take({ id: a.id }))).to.equal('used');

    const second = book.take({ id: b.id, action: 'lock' });
    expect(second).to.deep.equal({ ok: true, request: { action: 'remote-start', vehicleId: parked.vehicleId }, id: b.id });
    expect(refusedWith(book.take({ id: b.id }))).to.equal('used');
    expect(book.size).to.equal(0);
  });

  it('answers unknown for a well-formed id it never issued', () => {
    book.issue(parked, 60);
    expect(refusedWith(book.take('nope'))).to.equal('unknown');
    expect(refusedWith(book.take({ id: 'A'.repeat(64) }))).to.equal('unknown');
    expect(book.size).to.equal(1);
  });

  it('answers malformed for anything but a short url-safe string or { id: string }', () => {
    const a = book.issue(parked, 60);
    for (const answer of [42, true, false, null, undefined, {}, { id: 42 }, { id: null }, [a.id], '', 'A'.repeat(65), `${a.id}/`, `../${a.id}`, 'a b', 'ä']) {
      expect(refusedWith(book.take(answer)), JSON.stringify(answer) ?? String(answer)).to.equal('malformed');
    }
    // A malformed answer consumes nothing.
    expect(book.take(a.id).ok).to.equal(true);
  });

  it('answers expired once the window has closed', () => {
    const a = book.issue(parked, 30);
    const b = book.issue(parked, 30);
    now += 30 * SEC - 1;
    expect(book.take(a.id).ok).to.equal(true);
    now += 1;
    expect(refusedWith(book.take(b.id))).to.equal('expired');
    expect(refusedWith(book.take({ id: b.id }))).to.equal('expired');
    expect(book.size).to.equal(0);
  });

  it('remembers expired and used ids for 15 minutes, then calls them unknown', () => {
    const used = book.issue(parked, 60);
    const late = book.issue(parked, 60);
    expect(book.take(used.id).ok).to.equal(true);
    now += 60 * SEC;
    expect(refusedWith(book.take(late.id))).to.equal('expired');
    now += 15 * MIN - 60 * SEC;
    expect(refusedWith(book.take(used.id))).to.equal('used');
    now += 1;
    expect(refusedWith(book.take(used.id))).to.equal('unknown');
    expect(refusedWith(book.take(late.id))).to.equal('expired');
    now += 60 * SEC;
    expect(refusedWith(book.take(late.id))).to.equal('unknown');
  });

  it('caps the book at 100 pending: the oldest becomes expired', () => {
    const issued = Array.from({ length: 100 }, (_, i) => book.issue({ action: `a${i}`, vehicleId: parked.vehicleId }, 60));
    expect(book.size).to.equal(100);
    const newest = book.issue(parked, 60);
    expect(book.size).to.equal(100);
    expect(refusedWith(book.take(issued[0].id))).to.equal('expired');
    expect(book.take(issued[1].id)).to.deep.include({ ok: true, request: { action: 'a1', vehicleId: parked.vehicleId } });
    expect(book.take(issued[99].id).ok).to.equal(true);
    expect(book.take(newest.id).ok).to.equal(true);
  });

  it('clear() forgets pending and spent ids', () => {
    const a = book.issue(parked, 60);
    const b = book.issue(parked, 60);
    book.take(b.id);
    book.clear();
    expect(book.size).to.equal(0);
    expect(refusedWith(book.take(a.id))).to.equal('unknown');
    expect(refusedWith(book.take(b.id))).to.equal('unknown');
  });

  it('uses Date.now by default', () => {
    const real = new Confirmations<Parked>();
    const before = Date.now();
    const a = real.issue(parked, 10);
    expect(a.expiresAt).to.be.within(before + 10 * SEC, Date.now() + 10 * SEC);
    expect(real.take(a.id).ok).to.equal(true);
  });

  it('confirmationRefusal gives a distinct text per reason', () => {
    const reasons = ['malformed', 'unknown', 'expired', 'used'] as const;
    const texts = reasons.map((r) => confirmationRefusal(r));
    for (const t of texts) expect(t).to.be.a('string').and.not.be.empty;
    expect(new Set(texts).size).to.equal(4);
    expect(confirmationRefusal('malformed')).to.match(/msg\.confirm/);
    expect(confirmationRefusal('expired')).to.match(/too late/);
    expect(confirmationRefusal('used')).to.match(/already used/);
    expect(confirmationRefusal('unknown')).to.match(/no pending confirmation/);
  });
});
