// What a feature service is handed for tenant work: the caller's tenant
// transaction and what the caller may do in it. The API builds it inside the
// request's tenant transaction (api/access.ts tenantScope); services never see
// HTTP.
import { type EntityManager } from 'typeorm';
import { type Permission } from '../lib/permissions';

/** What the caller may do inside their tenant, loaded in the request's tenant transaction. */
export interface TenantAccess {
  tenantId: string;
  userId: string | null;
  tokenId: string | null;
  membershipId: string | null;
  roleId: string;
  /** The role's template key (`owner`, `admin`, …; null for a custom role) and display name. */
  roleKey: string | null;
  roleName: string;
  permissions: ReadonlySet<Permission>;
  /** Set when the membership is restricted to one customer. */
  restrictedCustomerId: string | null;
  manager: EntityManager;
  /** The request this work belongs to (audit entries name it). */
  requestId?: string;
  /** Runs once the tenant transaction has committed (starting workflows whose activities read its rows). */
  afterCommit(fn: () => Promise<void>): void;
}

/** Who is calling, from the verified credential only (never from headers or bodies). */
export type Principal =
  | { kind: 'session'; sessionHash: string; userId: string; tenantId: string | null; isPlatformAdmin: boolean }
  | { kind: 'token'; tokenId: string; tenantId: string; roleId: string; restrictedCustomerId: string | null };

/** A platform admin (outside every tenant), or a tenant caller with its access. */
export type Caller = { kind: 'platform' } | { kind: 'tenant'; access: TenantAccess };
