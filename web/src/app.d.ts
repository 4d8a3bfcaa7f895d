// See https://svelte.dev/docs/kit/types#app.d.ts
import type { Me } from '$lib/types';

declare global {
  namespace App {
    interface Error {
      message: string;
      requestId?: string;
    }
    interface Locals {
      me: Me | null;
    }
  }
}

export {};
