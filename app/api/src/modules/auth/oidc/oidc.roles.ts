// Roles from the IdP: read a (possibly nested) claim, accept an array or a string of values, map
// each through PRAXISKERN_OIDC_ROLE_MAP to the six roles. Unmapped values are ignored.
import { isRole, type Role } from '../../../core/permissions.ts';

/** Reads "realm_access.roles"-style paths; a key that itself contains dots is tried whole first. */
export function readClaim(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** An array of strings, or one string with values separated by commas or spaces. */
export function claimValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

export function mapRoles(claims: Record<string, unknown>, claimPath: string, roleMap: Record<string, string>): Role[] {
  const roles = new Set<Role>();
  for (const v of claimValues(readClaim(claims, claimPath))) {
    const mapped = Object.hasOwn(roleMap, v) ? roleMap[v] : undefined;
    if (isRole(mapped)) roles.add(mapped);
  }
  return [...roles].sort();
}
