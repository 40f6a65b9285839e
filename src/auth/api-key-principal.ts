import type { ApiKeyRole } from './api-key.entity.js';

/** What a request's API key is allowed to do, resolved once per request by the guard. */
export interface ApiKeyPrincipal {
  id: string;
  role: ApiKeyRole;
  /** null: every link. */
  linkIds: string[] | null;
}

export function mayUseLink(principal: ApiKeyPrincipal, linkId: string): boolean {
  return (
    principal.role === 'admin' || principal.linkIds === null || principal.linkIds.includes(linkId)
  );
}
