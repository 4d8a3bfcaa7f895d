// A tenant: one agency or service business on the platform. The tenants table
// is the platform's registry; the rows it owns live in tenant-owned tables.
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const TENANT_STATUSES = ['provisioning', 'active', 'failed', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

@Entity({ name: 'tenants' })
export class Tenant {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { unique: true })
  slug: string;

  @Column('text')
  name: string;

  @Column('text')
  status: TenantStatus;

  @Column('text', { name: 'external_customer_id', nullable: true })
  externalCustomerId: string | null;

  @Column('text', { nullable: true })
  industry: string | null;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  settings: Record<string, unknown>;

  @Column('text', { name: 'stripe_customer_id', nullable: true })
  stripeCustomerId: string | null;

  /** Provisioning progress and bookkeeping (see workflows/provisionTenant.ts). */
  @Column('jsonb', { default: () => "'{}'::jsonb" })
  provisioning: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
