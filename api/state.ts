// Koa state and context types shared by every middleware and router.
import { type Logger } from 'pino';
import type Koa from 'koa';
import { type LiveKey } from '../services/access/publishableKeys';
import { type Principal, type TenantAccess } from '../services/context';

export type { Principal, TenantAccess };

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
  /** The publishable key of a website-event request, checked against its origin (api/middleware/publishableKey.ts). */
  publishableKey?: { key: string; live: LiveKey };
}

export type AppContext = Koa.ParameterizedContext<AppState>;
