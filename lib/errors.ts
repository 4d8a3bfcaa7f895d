// Known API errors carry an HTTP status and a snake_case code. The error
// boundary turns them into `{ error: { code, message, details? } }`.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what = 'resource') => new ApiError(404, 'not_found', `${what} not found`);

/** Authenticated, but lacking a permission within one's own tenant (audited by tenantScope). */
export const forbidden = (permission: string) => new ApiError(403, 'forbidden', `you lack the permission ${permission}`, { permission });
