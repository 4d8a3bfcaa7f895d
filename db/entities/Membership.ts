// A user's place in a tenant: one role, and optionally a restriction to one
// customer (the member then sees only that customer's resources).
import { Column, CreateDateColumn, Entity, UpdateDateColumn } from 'typeorm';
import { TenantKeyed } from './TenantKeyed';

@Entity({ name: 'memberships' })
export class Membership extends TenantKeyed {
  @Column('text', { name: 'user_id' })
  userId: string;

  @Column('text', { name: 'role_id' })
  roleId: string;

  @Column('text', { name: 'customer_id', nullable: true })
  customerId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
