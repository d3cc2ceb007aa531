import { gzipSync } from 'node:zlib';
import { Header, type types } from 'tar';

/** One raw tar entry, written exactly as given: archives a careful packer would never make included. */
export interface RawEntry {
  path: string;
  type?: types.EntryTypeName;
  linkpath?: string;
  body?: string | Buffer;
  mode?: number;
}

const BLOCK = 512;

/** A tar.gz of `entries`, headers and all, in order. */
export function tarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      size: body.length,
      mode: entry.mode ?? 0o644,
      linkpath: entry.linkpath ?? '',
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    });
    header.encode();
    blocks.push(header.block!, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(blocks));
}
