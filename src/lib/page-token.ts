import { invalidParameterValue } from './errors.ts';

/** MLflow's offset page tokens: base64 of `{"offset": N}`, as Python's json.dumps writes it. */
export function createPageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`, 'utf8').toString('base64');
}

export function parsePageToken(token: string | undefined): number {
  if (!token) return 0;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) throw invalidParameterValue('Invalid page token, could not base64-decode');
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded);
  } catch {
    throw invalidParameterValue(`Invalid page token, decoded value=${decoded}`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidParameterValue(`Invalid page token, parsed value=${decoded}`);
  }
  return offset;
}

/** The next page's token when a search, having read one row past `maxResults`, found more; else undefined. */
export function nextPageToken(found: number, offset: number, maxResults: number): string | undefined {
  return found > maxResults ? createPageToken(offset + maxResults) : undefined;
}

/** For a pager: the token of the page before (`''` for the first page), undefined when on the first page. */
export function previousPageToken(offset: number, pageSize: number): string | undefined {
  if (offset <= 0) return undefined;
  return offset <= pageSize ? '' : createPageToken(offset - pageSize);
}
