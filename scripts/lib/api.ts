/** The server API from Node (fetch), for the suites' clean traffic and checks. */

import type { PushResult } from "../../src/hub/rpc.ts";

/** The push answer is the user object's RPC result, passed through as JSON (docs/http-api.md). */
export type PushAnswer = PushResult;

export interface Presence {
  userId: string;
  online: boolean;
  sessions: Array<{ sessionId: string; device: string; connectedAt: number; lastSeenAt: number }>;
}

export interface Stats {
  onlineUsers: number;
  sessions: number;
}

export type Answer<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: string };

export class Api {
  readonly base: string;
  readonly apiKey: string;
  constructor(base: string, apiKey: string) {
    this.base = base;
    this.apiKey = apiKey;
  }

  async call<T>(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<Answer<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200) return { ok: false, status: res.status, error: text.slice(0, 300) };
      return { ok: true, status: 200, body: JSON.parse(text) as T };
    } catch (err) {
      return { ok: false, status: 0, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }

  push(userId: string, body: Record<string, unknown>): Promise<Answer<PushAnswer>> {
    return this.call<PushAnswer>("POST", `/v1/users/${encodeURIComponent(userId)}/messages`, body);
  }

  presence(userId: string): Promise<Answer<Presence>> {
    return this.call<Presence>("GET", `/v1/users/${encodeURIComponent(userId)}/presence`);
  }

  stats(): Promise<Answer<Stats>> {
    return this.call<Stats>("GET", "/v1/stats");
  }

  messages(userId: string, since: number, limit = 1000): Promise<Answer<{ head: number; messages: Array<{ id: string; seq: number }> }>> {
    return this.call("GET", `/v1/users/${encodeURIComponent(userId)}/messages?since=${since}&limit=${limit}`);
  }
}
