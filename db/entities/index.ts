import { ApiToken } from './ApiToken';
import { AuditEntry } from './AuditEntry';
import { Customer } from './Customer';
import { Membership } from './Membership';
import { Role } from './Role';
import { RolePermission } from './RolePermission';
import { Tenant } from './Tenant';
import { User } from './User';

export { ApiToken, AuditEntry, Customer, Membership, Role, RolePermission, Tenant, User };
export const entities = [Tenant, Customer, User, Role, RolePermission, Membership, ApiToken, AuditEntry];
