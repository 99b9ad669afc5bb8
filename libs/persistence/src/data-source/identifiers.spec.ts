import { InvalidIdentifierError } from '../errors';
import { advisoryLockKey, outboxChannel, qualifiedName, quoteIdentifier } from './identifiers';

describe('quoteIdentifier', () => {
  it('double-quotes so case and punctuation survive', () => {
    expect(quoteIdentifier('Router-Test_1')).toBe('"Router-Test_1"');
  });

  it('doubles embedded quotes so a name cannot break out of the identifier', () => {
    expect(quoteIdentifier('a"; DROP SCHEMA x; --')).toBe('"a""; DROP SCHEMA x; --"');
  });

  it('rejects names Postgres would truncate, empty names and NUL', () => {
    expect(() => quoteIdentifier('x'.repeat(64))).toThrow(InvalidIdentifierError);
    expect(quoteIdentifier('x'.repeat(63))).toBe(`"${'x'.repeat(63)}"`);
    expect(() => quoteIdentifier('')).toThrow(InvalidIdentifierError);
    expect(() => quoteIdentifier('a\0b')).toThrow(InvalidIdentifierError);
  });

  it('counts bytes, not characters', () => {
    expect(() => quoteIdentifier('é'.repeat(32))).toThrow(InvalidIdentifierError);
  });
});

describe('qualifiedName', () => {
  it('quotes schema and table separately', () => {
    expect(qualifiedName('router', 'outbox_messages')).toBe('"router"."outbox_messages"');
  });
});

describe('outboxChannel', () => {
  it('is <schema>_outbox when it fits', () => {
    expect(outboxChannel('router')).toBe('router_outbox');
  });

  it('hashes long schemas into a valid, distinct, stable channel name', () => {
    const a = outboxChannel('a'.repeat(60));
    const b = outboxChannel(`${'a'.repeat(59)}b`);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(outboxChannel('a'.repeat(60))).toBe(a);
  });
});

describe('advisoryLockKey', () => {
  it('is a signed 64-bit integer, stable per purpose and schema', () => {
    const key = BigInt(advisoryLockKey('outbox-relay', 'router'));
    expect(key).toBeGreaterThanOrEqual(-(2n ** 63n));
    expect(key).toBeLessThan(2n ** 63n);
    expect(advisoryLockKey('outbox-relay', 'router')).toBe(String(key));
  });

  it('differs between purposes and between schemas', () => {
    const keys = new Set([
      advisoryLockKey('outbox-relay', 'router'),
      advisoryLockKey('migrations', 'router'),
      advisoryLockKey('outbox-relay', 'governance'),
    ]);
    expect(keys.size).toBe(3);
  });
});
