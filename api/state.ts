// Koa state and context types shared by every middleware and router.
import { type Logger } from 'pino';
import type Koa from 'koa';

export interface AppState {
  requestId: string;
  log: Logger;
}

export type AppContext = Koa.ParameterizedContext<AppState>;
