// Every migration, in order. Listed explicitly (no glob) so the worker, the
// API, the tests and a compiled build all see the same set.
import { CreateTenants1730000000000 } from './1730000000000-create-tenants';

export const migrations = [CreateTenants1730000000000];
