// The Smartlead-style provider's admin API, as capability provisioning uses
// it: client accounts (one per Tenantflow customer), a client API key, and the
// client's email accounts (our inboxes). Authentication is the `api_key` query
// parameter. The live API cannot be reached from CI; tests run this client
// against a local server that follows the same contract (docs/providers.md).
import { ApplicationFailure } from '@temporalio/common';
import { PROVIDER_REJECTED } from '../../workflows/provisionEmailOutreach.contract';

export interface ProviderInbox {
  externalId: string;
  fromEmail: string;
  fromName: string;
  dailyCap: number;
  warmup: boolean;
}

interface EmailAccount {
  id: number | string;
  from_email: string;
  from_name?: string;
  message_per_day?: number;
  warmup_details?: { status?: string } | null;
}

export class SmartleadAdminClient {
  constructor(private readonly opts: { baseUrl: string; apiKey: string; timeoutMs?: number }) {}

  private async call<T>(method: 'GET' | 'POST', path: string, opts: { apiKey?: string; query?: Record<string, string>; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.opts.baseUrl.replace(/\/$/, '')}${path}`);
    url.searchParams.set('api_key', opts.apiKey ?? this.opts.apiKey);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new Error(`provider unreachable: ${(err as Error).message}`, { cause: err }); // retryable
    }
    const text = await res.text();
    if (res.status === 429 || res.status >= 500) throw new Error(`provider answered ${res.status}`); // retryable
    if (!res.ok) {
      // The provider refused the request itself: retrying will not help.
      throw ApplicationFailure.nonRetryable(`provider refused ${method} ${path}: ${res.status}`, PROVIDER_REJECTED);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async findClientByName(name: string): Promise<{ id: string } | undefined> {
    const clients = await this.call<{ id: number | string; name: string }[]>('GET', '/client/');
    const found = clients.find((c) => c.name === name);
    return found ? { id: String(found.id) } : undefined;
  }

  async createClient(input: { name: string }): Promise<{ id: string }> {
    const res = await this.call<{ ok: boolean; clientId: number | string }>('POST', '/client/save', {
      body: { name: input.name, email: null, permission: ['full_access'], logo: null },
    });
    return { id: String(res.clientId) };
  }

  async createClientApiKey(clientId: string): Promise<string> {
    const res = await this.call<{ ok: boolean; data: { api_key: string } }>('POST', '/client/api-key', {
      body: { client_id: clientId, key_name: 'tenantflow' },
    });
    return res.data.api_key;
  }

  async listInboxes(clientApiKey: string): Promise<ProviderInbox[]> {
    const inboxes: ProviderInbox[] = [];
    for (let offset = 0; offset < 10_000; offset += 100) {
      const page = await this.call<EmailAccount[]>('GET', '/email-accounts/', { apiKey: clientApiKey, query: { offset: String(offset), limit: '100' } });
      for (const a of page) {
        inboxes.push({
          externalId: String(a.id),
          fromEmail: a.from_email.toLowerCase(),
          fromName: a.from_name ?? '',
          dailyCap: Math.min(Math.max(a.message_per_day ?? 50, 1), 10_000),
          warmup: a.warmup_details?.status === 'ACTIVE',
        });
      }
      if (page.length < 100) break;
    }
    return inboxes;
  }
}
