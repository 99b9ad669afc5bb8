import { createHash } from 'node:crypto';

/** A name-based UUID (v5 layout over SHA-1), so the same name always yields the same id (update per fact and task, fact per CloudEvent). */
export function deterministicUuid(name: string): string {
  const hash = createHash('sha1').update(name).digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
