import type { FieldError } from '../common/app-error.js';
import type { ApiKeyRole } from './api-key.entity.js';

/** The part of a new key's request that says which links it reaches. */
export interface LinkGrantInput {
  role: ApiKeyRole;
  linkIds?: string[] | null;
  allLinks?: boolean | null;
}

/**
 * SPEC §11: a consumer key names its links (`linkIds`, non-empty) or says `allLinks: true`, so
 * that no key reaches every link by omission; never neither, never both, never `linkIds: null`.
 * Admin keys reach every link and take neither field. The shapes are the DTO's business; these
 * are the rules across fields, each problem named by its field.
 */
export function linkGrantErrors(input: LinkGrantInput): FieldError[] {
  const hasLinkIds = input.linkIds !== undefined;
  const hasAllLinks = input.allLinks !== undefined;
  if (input.role === 'admin') {
    return [
      ...(hasLinkIds
        ? [{ field: 'linkIds', message: 'linkIds applies to consumer keys only' }]
        : []),
      ...(hasAllLinks
        ? [{ field: 'allLinks', message: 'allLinks applies to consumer keys only' }]
        : []),
    ];
  }
  if (input.linkIds === null)
    return [
      {
        field: 'linkIds',
        message: 'linkIds must be a non-empty list of link ids; for every link send allLinks: true',
      },
    ];
  if (input.allLinks === true && hasLinkIds)
    return [{ field: 'allLinks', message: 'send either linkIds or allLinks: true, not both' }];
  if (input.allLinks !== true && !hasLinkIds)
    return [
      {
        field: 'linkIds',
        message: 'a consumer key needs linkIds (the links it may use) or allLinks: true',
      },
    ];
  return [];
}

/** What a stored key reaches: link_ids NULL means every link (admins, and older consumer keys). */
export function reachesAllLinks(linkIds: string[] | null): boolean {
  return linkIds === null;
}
