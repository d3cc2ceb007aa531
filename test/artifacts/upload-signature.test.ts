import { describe, expect, it } from 'vitest';
import { createUploadSigner } from '../../src/artifacts/upload-signature.ts';
import { HttpError } from '../../src/lib/errors.ts';

const clock = { now: 1_000 };
const signer = createUploadSigner({ now: () => clock.now, key: Buffer.alloc(32, 1) });
const grant = { uploadId: 'a'.repeat(32), partNumber: '2', expiresAt: '5000' };

function refusal(work: () => void): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(403);
    expect((error as HttpError).code).toBe('PERMISSION_DENIED');
    return (error as HttpError).message;
  }
  throw new Error('expected a refusal');
}

describe('part URL signatures', () => {
  it('accepts what it signed, until it expires', () => {
    const signature = signer.sign(grant);
    expect(signature).toMatch(/^[\w-]{43}$/);
    expect(() => signer.verify(grant, signature)).not.toThrow();
    clock.now = 4_999;
    expect(() => signer.verify(grant, signature)).not.toThrow();
    clock.now = 5_000;
    expect(refusal(() => signer.verify(grant, signature))).toMatch(/expired/);
    clock.now = 1_000;
  });

  it('refuses a signature of another grant, another key, or none', () => {
    const signature = signer.sign(grant);
    for (const changed of [{ ...grant, uploadId: 'b'.repeat(32) }, { ...grant, partNumber: '3' }, { ...grant, partNumber: '02' }, { ...grant, expiresAt: '50000' }]) {
      expect(refusal(() => signer.verify(changed, signature))).toMatch(/signature/);
    }
    const stranger = createUploadSigner({ now: () => clock.now });
    expect(refusal(() => stranger.verify(grant, signature))).toMatch(/signature/);
    for (const bad of ['', 'x', signature.slice(1), `${signature}=`]) refusal(() => signer.verify(grant, bad));
  });

  it('refuses grants that are not hex and digits even when signed, so no message reads as another', () => {
    for (const malformed of [
      { ...grant, uploadId: 'A'.repeat(32) },
      { ...grant, uploadId: `${'a'.repeat(30)}:2` },
      { ...grant, partNumber: '1:2' },
      { ...grant, partNumber: '-1' },
      { ...grant, expiresAt: '' },
      { ...grant, expiresAt: '1e9' },
    ]) {
      refusal(() => signer.verify(malformed, signer.sign(malformed)));
    }
  });
});
