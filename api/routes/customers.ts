// Customer routes: declarations over services/tenancy/customers. Another
// tenant's customer answers 404, exactly like one that does not exist.
import { z } from 'zod';
import * as customers from '../../services/tenancy/customers';
import { listQuery, sortQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';

const customerListQuery = listQuery.extend({ sort: sortQuery('name') });
const customerBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const tag = 'customers';
const read = { tag, auth: 'tenant', permission: 'customers.read' } as const;
const write = { tag, auth: 'tenant', permission: 'customers.write', idempotent: true } as const;
const customer = { params: { id: { prefix: 'cust', resource: 'customer' } } } as const;

export function customerRoutes(r: Routes) {
  r.add(
    { method: 'get', path: '/api/customers', summary: 'List customers', ...read, query: customerListQuery, response: R.list(R.customer) },
    ({ access, query }) => customers.listCustomers(access, query),
  );
  r.add(
    { method: 'post', path: '/api/customers', summary: 'Create a customer', ...write, body: customerBody, status: 201, response: R.customer },
    ({ access, body }) => customers.createCustomer(access, body.name),
  );
  r.add(
    {
      method: 'get',
      path: '/api/customer-context',
      summary: 'The customer that X-Customer-Id selects (validates the header)',
      ...read,
      customer: 'required',
      response: R.customerContext,
    },
    async ({ ctx }) => ({ customer: ctx.state.customer }),
  );
  r.add({ method: 'get', path: '/api/customers/:id', summary: 'Get a customer', ...read, ...customer, response: R.customer }, ({ access, params }) =>
    customers.getCustomer(access, params.id!),
  );
  r.add(
    { method: 'patch', path: '/api/customers/:id', summary: 'Rename a customer', ...write, ...customer, body: customerBody, response: R.customer },
    ({ access, params, body }) => customers.renameCustomer(access, params.id!, body.name),
  );
  r.add({ method: 'delete', path: '/api/customers/:id', summary: 'Delete a customer', ...write, ...customer, status: 204 }, ({ access, params }) =>
    customers.deleteCustomer(access, params.id!),
  );
}
