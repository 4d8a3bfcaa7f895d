// A tenant's role: a named set of permissions. System roles come with the
// tenant; custom roles are clones an owner edits.
import { Column, CreateDateColumn, Entity, UpdateDateColumn } from 'typeorm';
import { TenantKeyed } from './TenantKeyed';

@Entity({ name: 'roles' })
export class Role extends TenantKeyed {
  @Column('text', { nullable: true })
  key: string | null;

  @Column('text')
  name: string;

  @Column('boolean', { name: 'is_system', default: false })
  isSystem: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
