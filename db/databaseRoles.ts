// The two database roles (docs/architecture.md, "Tenancy in the database"). The
// owner role owns the schema and runs migrations; the application role is what
// the API and the worker connect as: not a superuser, no BYPASSRLS, owns
// nothing, so FORCE ROW LEVEL SECURITY applies to every query it makes.
import { Client } from 'pg';

export const OWNER_ROLE = 'tenantflow_owner';
export const APP_ROLE = 'tenantflow_app';
export const DEFAULT_DATABASE = 'tenantflow';

export interface ClusterCredentials {
  ownerPassword: string;
  appPassword: string;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdent(value: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(value)) throw new Error(`unsafe identifier: ${value}`);
  return `"${value}"`;
}

/**
 * Creates (or updates the passwords of) the owner and application roles, and
 * the database owned by the owner role. Runs with a superuser connection; it
 * is idempotent so every start can call it.
 */
export async function bootstrapCluster(adminUrl: string, database: string, creds: ClusterCredentials): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const [role, password] of [
      [OWNER_ROLE, creds.ownerPassword],
      [APP_ROLE, creds.appPassword],
    ] as const) {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const verb = exists.rowCount ? 'ALTER' : 'CREATE';
      // Role attributes are spelled out so an existing role is corrected too.
      await admin.query(
        `${verb} ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOREPLICATION ` +
          `${role === OWNER_ROLE ? 'CREATEDB' : 'NOCREATEDB'} PASSWORD ${quoteLiteral(password)}`,
      );
    }
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!db.rowCount) await admin.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(OWNER_ROLE)}`);
  } finally {
    await admin.end();
  }
}

/** Replaces the user, password and database of a connection URL. */
export function withCredentials(url: string, user: string, password: string, database?: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  if (database) u.pathname = `/${database}`;
  return u.toString();
}
