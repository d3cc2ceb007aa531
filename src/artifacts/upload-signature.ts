import { createHmac, randomBytes } from 'node:crypto';
import { forbidden } from '../lib/errors.ts';
import { safeEqual } from '../lib/secrets.ts';

/** What one part URL allows: the PUT of one part of one upload, until a moment. As it reads in the URL. */
export interface PartGrant {
  uploadId: string;
  partNumber: string;
  expiresAt: string;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const DIGITS = /^\d{1,15}$/;

export interface UploadSigner {
  sign(grant: PartGrant): string;
  /** Throws 403 unless `signature` is what `sign` made for exactly this grant and the grant has not expired. */
  verify(grant: PartGrant, signature: string): void;
}

/**
 * Pre-signed part URLs, as S3 hands them out: whoever holds the URL may PUT that one part, without a credential,
 * until it expires. The key is made at start-up and never leaves memory, so a restart voids the URLs in flight.
 */
export function createUploadSigner(deps: { now: () => number; key?: Buffer }): UploadSigner {
  const key = deps.key ?? randomBytes(32);
  // Grants are checked to be hex and digits first, so no grant's message can be read as another's.
  const sign = (grant: PartGrant) =>
    createHmac('sha256', key).update(`${grant.uploadId}:${grant.partNumber}:${grant.expiresAt}`).digest('base64url');

  return {
    sign,
    verify(grant, signature) {
      const wellFormed = UPLOAD_ID.test(grant.uploadId) && DIGITS.test(grant.partNumber) && DIGITS.test(grant.expiresAt);
      if (!wellFormed || !safeEqual(sign(grant), signature)) throw forbidden('This part URL is not valid: its signature does not match');
      if (!(Number(grant.expiresAt) > deps.now())) throw forbidden('This part URL has expired: create the multipart upload again');
    },
  };
}
