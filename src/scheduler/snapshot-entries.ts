import { HttpError, badRequest } from '../lib/errors.ts';

/** What the check reads of a tar entry (node-tar's ReadEntry has these fields). */
export interface ArchiveEntry {
  path: string;
  type: string;
  linkpath?: string;
  size: number;
}

export interface UnpackLimits {
  /** The sum of the files' sizes. */
  maxBytes: number;
  maxEntries: number;
}

type Kind = 'directory' | 'file' | 'symbolic link';

const KINDS: Readonly<Record<string, Kind | 'hard link'>> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symbolic link',
  Link: 'hard link',
};

const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;
/** As the kernel's ELOOP: more links than this while resolving one path is a loop. */
const MAX_LINK_HOPS = 40;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const quoted = (path: string) => JSON.stringify(path.slice(0, 300));

/** The names of a relative path in an archive (`./a//b` is `a/b`), or why it may not be unpacked. */
function namesOf(path: string): string[] | string {
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return 'the path is too long';
  if (path.startsWith('/')) return 'absolute paths are not allowed';
  if (path.includes('\\')) return 'backslashes are not allowed';
  if (CONTROL_CHARACTER.test(path)) return 'control characters are not allowed';
  const names = path.split('/').filter((name) => name !== '' && name !== '.');
  if (names.includes('..')) return "'..' is not allowed";
  if (names.some((name) => Buffer.byteLength(name) > MAX_NAME_BYTES)) return `a name is longer than ${MAX_NAME_BYTES} bytes`;
  return names;
}

/**
 * Whether following the link at `path` (as the kernel would, through the other links of the archive) leaves the
 * folder it is unpacked into. The archive is unpacked into an empty folder, so its links are all there is.
 */
function leadsOutside(links: ReadonlyMap<string, string>, path: string): boolean {
  const reached = path.split('/').slice(0, -1);
  const pending = links.get(path)!.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      if (reached.length === 0) return true;
      reached.pop();
      continue;
    }
    reached.push(name);
    const target = links.get(reached.join('/'));
    if (target === undefined) continue;
    if (++hops > MAX_LINK_HOPS || target.startsWith('/')) return true;
    reached.pop();
    pending.unshift(...target.split('/'));
  }
  return false;
}

export interface EntryCheck {
  /** Undefined to unpack the entry, `skip` for the archive's own root folder, or why the archive is refused. */
  admit(entry: ArchiveEntry): HttpError | 'skip' | undefined;
  /** Checks that need the whole archive (where its links lead); undefined when it may be kept. */
  finish(): HttpError | undefined;
  readonly files: number;
  readonly bytes: number;
}

/**
 * The rules a code snapshot's archive must follow, entry by entry as it streams: relative paths without `..`,
 * only files, folders and links, symbolic links that stay inside, hard links to a file already unpacked, nothing
 * written below a link or a file, and a bounded size. A refused entry refuses the whole archive.
 */
export function createEntryCheck(limits: UnpackLimits): EntryCheck {
  const kinds = new Map<string, Kind>();
  const links = new Map<string, string>();
  let entries = 0;
  let files = 0;
  let bytes = 0;

  const refuse = (entry: ArchiveEntry, problem: string) => badRequest(`the archive's entry ${quoted(entry.path)} cannot be unpacked: ${problem}`);

  const claim = (entry: ArchiveEntry, names: string[], kind: Kind): HttpError | undefined => {
    for (let depth = 1; depth < names.length; depth++) {
      const parent = names.slice(0, depth).join('/');
      const held = kinds.get(parent);
      if (held === undefined) kinds.set(parent, 'directory');
      else if (held !== 'directory') return refuse(entry, `it lies below ${quoted(parent)}, which is a ${held}`);
    }
    const path = names.join('/');
    const held = kinds.get(path);
    if (held !== undefined && !(held === 'directory' && kind === 'directory')) return refuse(entry, 'the archive holds this path twice');
    kinds.set(path, kind);
    return undefined;
  };

  return {
    admit(entry) {
      const kind = KINDS[entry.type];
      if (kind === undefined) return refuse(entry, `${entry.type} entries are not allowed, only files, folders and links`);
      const names = namesOf(entry.path);
      if (typeof names === 'string') return refuse(entry, names);
      if (names.length === 0) return kind === 'directory' ? 'skip' : refuse(entry, 'it names the snapshot itself');
      if (++entries > limits.maxEntries) return badRequest(`the archive holds more than ${limits.maxEntries} entries`);

      const path = names.join('/');
      const target = entry.linkpath ?? '';
      if (kind === 'symbolic link') {
        if (target === '') return refuse(entry, 'the link has no target');
        if (target.startsWith('/') || leadsOutside(new Map([[path, target]]), path)) {
          return refuse(entry, `the link points outside the snapshot, to ${quoted(target)}`);
        }
        links.set(path, target);
      }
      if (kind === 'hard link') {
        const targetNames = namesOf(target);
        if (typeof targetNames === 'string') return refuse(entry, `its target ${quoted(target)}: ${targetNames}`);
        if (kinds.get(targetNames.join('/')) !== 'file') return refuse(entry, 'a hard link must point to a file earlier in the archive');
      }
      const conflict = claim(entry, names, kind === 'hard link' ? 'file' : kind);
      if (conflict) return conflict;

      if (kind === 'file') {
        files++;
        bytes += entry.size;
        if (bytes > limits.maxBytes) return new HttpError(413, 'REQUEST_TOO_LARGE', `the snapshot unpacks to more than ${limits.maxBytes} bytes`);
      }
      return undefined;
    },

    finish() {
      for (const path of links.keys()) {
        if (leadsOutside(links, path)) return badRequest(`the archive's link ${quoted(path)} leads outside the snapshot (to ${quoted(links.get(path)!)})`);
      }
      return undefined;
    },

    get files() {
      return files;
    },
    get bytes() {
      return bytes;
    },
  };
}
