// X-Customer-Id (docs/architecture.md, "Access"): customer-scoped resources are
// addressed with `X-Customer-Id: cust_…`. The customer must belong to the
// caller's tenant — and be the caller's own when the membership is restricted
// to one. A header naming a customer that does not exist, belongs to another
// tenant or to another customer's member gets one answer: 400
// invalid_customer_context. A restricted member who sends no header works in
// their own customer.
import type Koa from 'koa';
import { access } from '../access';
import { ApiError, notFound } from '../../lib/errors';
import { customerContext } from '../../services/tenancy/customers';
import { type AppState } from '../state';

export const invalidCustomerContext = () =>
  new ApiError(400, 'invalid_customer_context', 'X-Customer-Id must name a customer of your tenant that you can access');

/**
 * `notFoundAs` is for routes that address an existing resource (a
 * missing or wrong X-Customer-Id there is the same 404 as any resource outside
 * the caller's reach); creation keeps the 400.
 */
export function customerScope(opts: { required: boolean; notFoundAs?: string }) {
  const invalid = () => (opts.notFoundAs ? notFound(opts.notFoundAs) : invalidCustomerContext());
  return async function customerScope(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const a = access(ctx);
    const header = ctx.get('x-customer-id').trim();
    const wanted = header || a.restrictedCustomerId || '';
    if (!wanted) {
      if (opts.required) throw opts.notFoundAs ? invalid() : new ApiError(400, 'invalid_customer_context', 'send X-Customer-Id: cust_… to choose a customer');
      return next();
    }
    ctx.state.customer = await customerContext(a, wanted).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) throw invalid();
      throw err;
    });
    return next();
  };
}
