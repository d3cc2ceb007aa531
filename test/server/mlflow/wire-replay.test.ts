import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../../helpers/test-app.ts';

/**
 * Replays what the real `mlflow` client (2.22.1 and 3.1.0rc0) sent to a real MLflow server, in order, and
 * compares Trainyard's answers with the recorded ones: same status, same JSON shape, same values, after
 * mapping the ids the server chose (runs, logged models) to ours. Times the server stamps are compared by type.
 */
interface Exchange {
  method: string;
  path: string;
  req_content_type: string | null;
  user_agent: string;
  req: unknown;
  status: number;
  resp: unknown;
}

const SERVER_TIMES = new Set([
  'creation_time',
  'last_update_time',
  'creation_timestamp',
  'last_updated_timestamp',
  'creation_timestamp_ms',
  'last_updated_timestamp_ms',
]);
const ID = /(?<![0-9a-f])(?:m-)?[0-9a-f]{32}(?![0-9a-f])/g;

function load(name: string): Exchange[] {
  const text = readFileSync(new URL(`../../fixtures/mlflow/${name}`, import.meta.url), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Exchange);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Where our answer differs from the recorded one, as JSON paths. */
function differences(recorded: unknown, actual: unknown, path = '$'): string[] {
  if (isObject(recorded)) {
    if (!isObject(actual)) return [`${path}: expected an object, got ${JSON.stringify(actual)?.slice(0, 80)}`];
    const keys = new Set([...Object.keys(recorded), ...Object.keys(actual)]);
    return [...keys].flatMap((key) => {
      if (!(key in actual)) return [`${path}.${key}: missing`];
      if (!(key in recorded)) return [`${path}.${key}: not in MLflow's answer (${JSON.stringify(actual[key])?.slice(0, 80)})`];
      if (SERVER_TIMES.has(key)) return typeof actual[key] === typeof recorded[key] ? [] : [`${path}.${key}: type ${typeof actual[key]}`];
      return differences(recorded[key], actual[key], `${path}.${key}`);
    });
  }
  if (Array.isArray(recorded)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)?.slice(0, 80)}`];
    if (recorded.length !== actual.length) return [`${path}: ${actual.length} items, MLflow had ${recorded.length}`];
    return recorded.flatMap((item, index) => differences(item, actual[index], `${path}[${index}]`));
  }
  return Object.is(recorded, actual) ? [] : [`${path}: ${JSON.stringify(actual)}, MLflow had ${JSON.stringify(recorded)}`];
}

function replay(file: string): void {
  describe(file, () => {
    let t: TestApp;
    // Recorded value -> ours, for what the server chose: run and logged-model ids, names of unnamed runs.
    const chosen = new Map<string, string>();
    const mapIds = (text: string) => text.replace(ID, (id) => chosen.get(id) ?? id);
    const mapRecorded = (value: unknown): unknown =>
      JSON.parse(mapIds(JSON.stringify(value)), (_key, item: unknown) => (typeof item === 'string' ? (chosen.get(item) ?? item) : item));
    const learn = (recorded: string, ours: string) => {
      if (recorded !== ours && !chosen.has(recorded)) chosen.set(recorded, ours);
    };
    /** Learns the server's choices from the values that stand at the same JSON paths in both answers. */
    const learnChoices = (recorded: unknown, actual: unknown, namesChosen: boolean, key = ''): void => {
      if (typeof recorded === 'string' && typeof actual === 'string') {
        const id = recorded.match(ID)?.[0];
        const mine = actual.match(ID)?.[0];
        if (id && mine) learn(id, mine);
        else if (key === 'run_name' && namesChosen) learn(recorded, actual);
      } else if (Array.isArray(recorded) && Array.isArray(actual)) {
        recorded.forEach((item, index) => learnChoices(item, actual[index], namesChosen));
      } else if (isObject(recorded) && isObject(actual)) {
        for (const entry of Object.keys(recorded)) learnChoices(recorded[entry], actual[entry], namesChosen, entry);
      }
    };

    beforeAll(async () => {
      t = await createTestApp();
    });

    for (const [index, exchange] of load(file).entries()) {
      it(`${index + 1}: ${exchange.method} ${exchange.path.split('?')[0]}`, async () => {
        // The client's version decides some shapes (MLflow 2 servers know no run outputs).
        const headers: Record<string, string> = { Authorization: t.basic(ADMIN), 'User-Agent': exchange.user_agent };
        let body: string | Uint8Array | undefined;
        if (exchange.req !== null && exchange.req !== undefined) {
          const binary = (exchange.req as { _binary_len?: number })._binary_len;
          if (binary !== undefined) body = new Uint8Array(randomBytes(binary));
          else body = typeof exchange.req === 'string' ? exchange.req : mapIds(JSON.stringify(exchange.req));
          if (exchange.req_content_type) headers['Content-Type'] = exchange.req_content_type;
        }
        const response = await t.request(mapIds(exchange.path), {
          method: exchange.method,
          headers,
          ...(body !== undefined && { body }),
        });
        const bytes = new Uint8Array(await response.arrayBuffer());
        const text = new TextDecoder().decode(bytes);
        expect(response.status, text.slice(0, 300)).toBe(exchange.status);

        const recorded = exchange.resp;
        if (typeof recorded === 'string') {
          expect(text).toBe(recorded);
        } else if (isObject(recorded) && typeof recorded._binary_len === 'number') {
          expect(bytes.length).toBe(recorded._binary_len);
        } else if (!(isObject(recorded) && '_truncated_json' in recorded)) {
          const actual = JSON.parse(text) as unknown;
          // Only a run created without a name has one the server chose.
          learnChoices(recorded, actual, exchange.path.includes('/runs/create') && !(isObject(exchange.req) && 'run_name' in exchange.req));
          expect(differences(mapRecorded(recorded), actual)).toEqual([]);
        }
      });
    }
  });
}

replay('wire-2.22.1.jsonl');
replay('wire-3.1.0rc0.jsonl');
