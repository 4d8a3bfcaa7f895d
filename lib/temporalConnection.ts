// The API's connection to Temporal: lazy (the API starts while Temporal is
// down) and with a deadline on every call. Without one, a call to a stopped
// server is retried for about 20 s (the SDK's retry interceptor) and a call to
// a paused one waits forever; with it, the call fails DEADLINE_EXCEEDED and the
// request answers 503 dependency_unavailable (api/middleware/errorBoundary).
import { Connection, type ConnectionOptions, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/** How long one Temporal call of an API request may take, its retries included. */
export const API_TEMPORAL_CALL_DEADLINE_MS = 5_000;

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** Gives a call without a deadline (none set by withDeadline) one `ms` from now; the retries below stay within it. */
export function callDeadline(ms: number): GrpcInterceptor {
  return (options, nextCall) => {
    const set = options.deadline !== undefined && options.deadline !== Infinity;
    // grpc-js takes the next call's interface as the answer; its type asks for the class.
    return nextCall(set ? options : { ...options, deadline: Date.now() + ms }) as ReturnType<GrpcInterceptor>;
  };
}

export function apiTemporalConnection(opts: { address: string; callDeadlineMs?: number }): Connection {
  return Connection.lazy({
    address: opts.address,
    connectTimeout: opts.callDeadlineMs ?? API_TEMPORAL_CALL_DEADLINE_MS,
    // The deadline first, so the SDK's default retries run inside it.
    interceptors: [callDeadline(opts.callDeadlineMs ?? API_TEMPORAL_CALL_DEADLINE_MS), makeGrpcRetryInterceptor(defaultGrpcRetryOptions())],
  });
}
