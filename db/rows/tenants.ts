// The platform's tenants table as typed SQL reads it (no RLS: it is the list
// of tenants itself). One row type; each reader picks the columns it selects.

/** A tenants row; `P` is how the reader types the `provisioning` progress it keeps (jsonb). */
export interface TenantRecord<P = Record<string, unknown>> {
  id: string;
  name: string;
  slug: string;
  status: string;
  external_customer_id: string | null;
  industry: string | null;
  registration_hash: string | null;
  owner_email: string | null;
  owner_name: string | null;
  pending_owner_password_hash: string | null;
  /** Registered through public sign-up: the owner's address is unproven until its link is followed. */
  self_registered: boolean;
  stripe_customer_id: string | null;
  /** The billing workflow's plan and status (restricted shown as such), for the platform view. */
  billing_plan: string;
  billing_status: string;
  provisioning: P;
  created_at: Date;
}
