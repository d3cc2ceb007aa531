import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/lib/errors.ts';
import {
  canonicalStage,
  parseVersion,
  validateAlias,
  validateTagKey,
  validateTags,
} from '../../src/registry/registry-validation.ts';

function refusal(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).code).toBe('INVALID_PARAMETER_VALUE');
    return (error as HttpError).message;
  }
  throw new Error('expected a refusal');
}

describe('tag keys', () => {
  it.each(['team', 'mlflow.user', 'a/b', 'with space', 'x:y', 'über_ü-1', 'a'.repeat(250)])('accepts %s', (key) => {
    expect(validateTagKey(key)).toBe(key);
  });

  it.each([
    ['', "Missing value for required parameter 'key'."],
    ['.', "This name would resolve to '.'"],
    ['a/../b', "This name would resolve to 'b'"],
    ['../a', "This name would resolve to '../a'"],
    ['/abs', "This name would resolve to '/abs'"],
    ['a//b', "This name would resolve to 'a/b'"],
    ['a/', "This name would resolve to 'a'"],
    ['a*', 'Names may only contain alphanumerics'],
    ['new\nline', 'Names may only contain alphanumerics'],
    ['a'.repeat(251), "'Tag key' exceeds the maximum length of 250 characters"],
  ])('refuses %j', (key, message) => {
    expect(refusal(() => validateTagKey(key))).toContain(message);
  });

  it('keeps the last of duplicate tags and fills a missing value with ""', () => {
    expect(validateTags([{ key: 'a', value: '1' }, { key: 'b' }, { key: 'a', value: '2' }])).toEqual([
      { key: 'a', value: '2' },
      { key: 'b', value: '' },
    ]);
  });
});

describe('versions, aliases and stages', () => {
  it.each([
    ['1', 1],
    [' 7 ', 7],
    ['007', 7],
    ['-3', -3],
  ])('reads version %j as %d', (text, number) => {
    expect(parseVersion(text)).toBe(number);
  });

  it.each(['', '1.0', 'one', '0x10', '1e3'])('refuses version %j', (text) => {
    expect(refusal(() => parseVersion(text))).toMatch(/Missing value|must be an integer/);
  });

  it.each(['champion', 'Prod_2', 'a-b', 'über'])('accepts alias %s', (alias) => {
    expect(validateAlias(alias)).toBe(alias);
  });

  it.each(['', 'latest', 'LATEST', 'v1', 'V22', 'a b', 'a.b', 'a'.repeat(256)])('refuses alias %j', (alias) => {
    refusal(() => validateAlias(alias));
  });

  it('canonicalises stages case-insensitively and refuses others', () => {
    expect(['none', 'STAGING', 'Production', 'archived'].map(canonicalStage)).toEqual(['None', 'Staging', 'Production', 'Archived']);
    expect(refusal(() => canonicalStage('Deleted_Internal'))).toContain('Invalid Model Version stage: Deleted_Internal');
  });
});
