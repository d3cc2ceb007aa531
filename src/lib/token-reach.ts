/** The fields of a token that say what it may reach (PublicToken's, in src/auth/tokens.ts). */
export interface TokenBounds {
  scope: string;
  runUuid: string | null;
  deployment: string | null;
}

/**
 * What a token may reach, for a list of tokens: its scope, or the one run or deployment it is bound to (those hold
 * the write scope, which alone would read as a token that can do everything).
 */
export function tokenReach(token: TokenBounds): string {
  if (token.deployment !== null) return `deployment ${token.deployment}`;
  if (token.runUuid !== null) return `run ${token.runUuid}`;
  return token.scope;
}
