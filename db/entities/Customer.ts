// A customer (`cust_…`): the agency's client account inside a tenant. The first
// tenant-owned table; its key leads with tenant_id.
import { Column, CreateDateColumn, Entity, UpdateDateColumn } from 'typeorm';
import { TenantKeyed } from './TenantKeyed';

@Entity({ name: 'customers' })
export class Customer extends TenantKeyed {
  @Column('text')
  name: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
