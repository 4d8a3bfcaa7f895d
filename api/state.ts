// Koa state and context types shared by every middleware and router.
import { type Logger } from 'pino';
import type Koa from 'koa';
import { type EntityManager } from 'typeorm';
import { type Permission } from '../lib/permissions';

/** Who is calling, from the verified credential only (never from headers or bodies). */
export type Principal =
  | { kind: 'session'; sessionHash: string; userId: string; tenantId: string | null; isPlatformAdmin: boolean }
  | { kind: 'token'; tokenId: string; tenantId: string; roleId: string; restrictedCustomerId: string | null };

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
}

export interface AppState {
  requestId: string;
  log: Logger;
  body?: unknown;
  /** The unparsed request body, kept only on webhook paths. */
  rawBody?: string;
  /** The client's address (the console names it for its users; see clientAddress). */
  clientAddress?: string;
  principal?: Principal;
  access?: TenantAccess;
  /** Run after the request's tenant transaction commits (set by tenantScope). */
  afterCommit?: (() => Promise<void>)[];
  /** Check each success response against its route's declared schema (tests). */
  checkResponses?: boolean;
  /** Fields of the response body that hold a secret shown once: never stored for Idempotency-Key replays. */
  secretFields?: string[];
  /** The customer chosen by X-Customer-Id (or a restricted membership). */
  customer?: { id: string; name: string };
}

export type AppContext = Koa.ParameterizedContext<AppState>;
