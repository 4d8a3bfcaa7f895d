// Shapes the console reads from the API.
export interface TenantSummary {
  id: string;
  name: string;
  slug: string;
}

export interface Me {
  user: { id: string; email: string; name: string; isPlatformAdmin: boolean } | null;
  tenant: TenantSummary | null;
  role: { id: string; name: string; key: string | null } | null;
  permissions: string[];
  restrictedCustomerId: string | null;
  tenants: TenantSummary[];
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] | Record<string, unknown> };
}

export function can(me: Me | null | undefined, permission: string): boolean {
  return Boolean(me?.permissions.includes(permission));
}
