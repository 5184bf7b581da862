import { opaqueToken, type OAuthStore } from './store';

/**
 * Which tokens descend from which authorization code, through every refresh
 * rotation. A code presented twice means it leaked: RFC 6749 4.1.2 asks to
 * revoke what was issued from it, and only that (the owner's other sessions
 * with the same app keep working).
 */
export class TokenFamilies {
  private readonly familyOfCode = new Map<string, string>();
  private readonly familyOfToken = new Map<string, string>();
  private readonly members = new Map<string, Set<string>>();
  private readonly compromised = new Set<string>();

  constructor(private readonly store: OAuthStore) {}

  forCode(code: string): string {
    let family = this.familyOfCode.get(code);
    if (!family) {
      family = opaqueToken(12);
      this.familyOfCode.set(code, family);
      this.members.set(family, new Set());
    }
    return family;
  }

  /** The family a refresh token belongs to; tokens issued outside a code flow start their own. */
  forToken(token: string): string {
    const family = this.familyOfToken.get(token);
    if (family) return family;
    const fresh = opaqueToken(12);
    this.members.set(fresh, new Set([token]));
    this.familyOfToken.set(token, fresh);
    return fresh;
  }

  add(family: string, ...tokens: string[]): void {
    const set = this.members.get(family) ?? new Set<string>();
    this.members.set(family, set);
    for (const t of tokens) {
      set.add(t);
      this.familyOfToken.set(t, family);
    }
  }

  isCompromised(family: string): boolean {
    return this.compromised.has(family);
  }

  /** Revokes every token issued from this code; later issues in the family are refused. Returns how many were live. */
  revokeCode(code: string): number {
    const family = this.forCode(code);
    this.compromised.add(family);
    let live = 0;
    for (const token of this.members.get(family) ?? []) {
      const record = this.store.accessTokens.get(token) ?? this.store.refreshTokens.get(token);
      if (record && !record.revoked) {
        record.revoked = true;
        live++;
      }
    }
    return live;
  }
}
