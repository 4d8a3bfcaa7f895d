// A tenant's system roles, from its industry template (spec §5.1). Idempotent:
// running it again for the same tenant creates nothing twice, so a retried
// provisioning step is safe.
import { type EntityManager } from 'typeorm';
import { type IndustryTemplate } from '../lib/industryTemplates';
import { newId } from './ids';

/** Must run inside withTenant(); returns role ids by key. */
export async function applyTemplateRoles(manager: EntityManager, template: Pick<IndustryTemplate, 'roles'>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const role of template.roles) {
    await manager.query(
      `INSERT INTO roles (tenant_id, id, key, name, is_system) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, true)
       ON CONFLICT (tenant_id, key) DO NOTHING`,
      [newId('role'), role.key, role.name],
    );
    const [row] = (await manager.query('SELECT id FROM roles WHERE key = $1', [role.key])) as { id: string }[];
    ids[role.key] = row!.id;
    for (const permission of role.permissions) {
      await manager.query(
        "INSERT INTO role_permissions (tenant_id, role_id, permission) VALUES (current_setting('app.tenant_id')::uuid, $1, $2) ON CONFLICT DO NOTHING",
        [row!.id, permission],
      );
    }
  }
  return ids;
}
