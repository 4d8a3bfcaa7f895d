import { Customer } from './Customer';
import { Tenant } from './Tenant';

export { Customer, Tenant };
export const entities = [Tenant, Customer];
