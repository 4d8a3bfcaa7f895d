// API tokens of a tenant: each scoped to one role (and perhaps one
// customer), stored as the SHA-256 hash of its secret, revocable. Runs in the
// tenant's transaction (RLS).
import { type EntityManager, type FindOptionsWhere } from 'typeorm';
import { ApiToken } from './entities';

/** The live token with this hash. */
export async function findLiveTokenByHash(
  m: EntityManager,
  tokenHash: string,
): Promise<{ id: string; role_id: string; customer_id: string | null } | undefined> {
  const rows = (await m.query('SELECT id, role_id, customer_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [tokenHash])) as {
    id: string;
    role_id: string;
    customer_id: string | null;
  }[];
  return rows[0];
}

/** The member who minted the token (null: minted by a platform admin; undefined: no such token). */
export async function tokenCreator(m: EntityManager, tokenId: string): Promise<string | null | undefined> {
  return ((await m.query('SELECT created_by FROM api_tokens WHERE id = $1', [tokenId])) as { created_by: string | null }[])[0]?.created_by;
}

/** Revokes every live token the user created in this tenant; answers how many. */
export async function revokeTokensCreatedBy(m: EntityManager, userId: string): Promise<number> {
  const [, n] = (await m.query('UPDATE api_tokens SET revoked_at = now() WHERE created_by = $1 AND revoked_at IS NULL', [userId])) as [unknown, number];
  return n;
}

/** Deletes the tokens of a role (revoked ones: a role in use by a live token is never deleted). */
export async function deleteTokensOfRole(m: EntityManager, roleId: string): Promise<void> {
  await m.query('DELETE FROM api_tokens WHERE role_id = $1', [roleId]);
}

/** Stores a new token; answers the saved entity. */
export function insertApiToken(
  m: EntityManager,
  token: Pick<ApiToken, 'id' | 'name' | 'tokenHash' | 'prefix' | 'roleId' | 'customerId' | 'createdBy' | 'lastUsedAt' | 'revokedAt'>,
): Promise<ApiToken> {
  return m.getRepository(ApiToken).save(token);
}

/** Tokens matching `where`, by id. */
export function listApiTokens(m: EntityManager, where: FindOptionsWhere<ApiToken>): Promise<ApiToken[]> {
  return m.getRepository(ApiToken).find({ where, order: { id: 'ASC' } });
}

export function findApiToken(m: EntityManager, where: FindOptionsWhere<ApiToken>): Promise<ApiToken | null> {
  return m.getRepository(ApiToken).findOneBy(where);
}

export async function markTokenRevoked(m: EntityManager, id: string): Promise<void> {
  await m.getRepository(ApiToken).update({ id }, { revokedAt: new Date() });
}
