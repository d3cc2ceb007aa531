import { expect, it } from 'vitest';
import type { TestApp } from './test-app.ts';

export interface Scenario {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a URLSearchParams as a form; a string as it is. */
  body?: unknown;
  status: number;
  /** Substrings the body must contain. */
  contains?: string[];
  /** Fields the JSON body must match (partially). */
  json?: Record<string, unknown>;
  responseHeaders?: Record<string, string | RegExp>;
}

export function requestInit(scenario: Pick<Scenario, 'method' | 'headers' | 'body'>): RequestInit {
  const headers: Record<string, string> = { ...scenario.headers };
  let body: RequestInit['body'];
  if (scenario.body instanceof URLSearchParams || typeof scenario.body === 'string') body = scenario.body;
  else if (scenario.body !== undefined) {
    body = JSON.stringify(scenario.body);
    headers['Content-Type'] ??= 'application/json';
  }
  return { method: scenario.method ?? 'GET', headers, ...(body !== undefined && { body }) };
}

/** One `it` per row: the request goes through the in-process router and the response is checked. */
export function runScenarios(test: () => TestApp, scenarios: Scenario[]): void {
  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const response = await test().request(scenario.path, requestInit(scenario));
      const text = await response.text();
      expect(response.status, text.slice(0, 300)).toBe(scenario.status);
      for (const fragment of scenario.contains ?? []) expect(text).toContain(fragment);
      if (scenario.json) expect(JSON.parse(text)).toMatchObject(scenario.json);
      for (const [name, value] of Object.entries(scenario.responseHeaders ?? {})) {
        expect(response.headers.get(name) ?? '').toMatch(value);
      }
    });
  }
}
