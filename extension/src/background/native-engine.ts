// The native host as an Engine: one long-lived `connectNative` port (it keeps the host warm and, in
// Chromium, the service worker alive), request ids, reconnect with backoff, and re-sending requests that
// were in flight when the host went away.
import { api } from "../shared/browser";
import { CLIENT, HOST_NAME, INSTALL_COMMAND } from "../shared/constants";
import type { HostState, HostStatus } from "../shared/messages";
import type { HelloReply, HostReply, HostRequest } from "../shared/protocol";
import type { Engine } from "./engine";

interface InFlight {
  req: HostRequest;
  resolve: (r: HostReply) => void;
  reject: (e: Error) => void;
  sentAt: number;
  timer: ReturnType<typeof setTimeout> | null;
  attempts: number;
}

const BACKOFF_MS = [200, 500, 1000, 2000, 5000, 10000, 30000];
const MAX_ATTEMPTS = 3;

function describeDisconnect(err: string | undefined): { state: HostState; message: string } {
  const e = err ?? "";
  if (/not found|no such native application|not installed|manifest/i.test(e)) {
    return {
      state: "not-installed",
      message: `The Feedwarden host is not installed for this browser. Run \`${INSTALL_COMMAND}\` in a terminal, then click Retry.`,
    };
  }
  if (/forbidden|access/i.test(e)) {
    return {
      state: "not-installed",
      message: `The Feedwarden host does not allow this extension (wrong id in its manifest). Run \`${INSTALL_COMMAND}\` again.`,
    };
  }
  return { state: "disconnected", message: `The Feedwarden host stopped (${e || "it exited"}); reconnecting…` };
}

export class NativeEngine implements Engine {
  private port: chrome.runtime.Port | null = null;
  private nextId = 1;
  private inflight = new Map<number, InFlight>();
  private queue: number[] = []; // ids waiting for a connection
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private listeners: ((s: HostStatus) => void)[] = [];
  private latencies: number[] = [];
  private st: HostStatus = {
    state: "connecting",
    message: "Connecting to the Feedwarden host…",
    hello: null,
    latency: null,
    installCommand: INSTALL_COMMAND,
    since: Date.now(),
  };

  constructor(private hostName: string = HOST_NAME) {}

  status(): HostStatus {
    return this.st;
  }

  onStatusChange(cb: (s: HostStatus) => void): void {
    this.listeners.push(cb);
  }

  reconnect(): void {
    this.failures = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.port) {
      try {
        this.port.disconnect();
      } catch {
        /* already gone */
      }
      this.port = null;
    }
    this.connect();
  }

  request(req: HostRequest, opts: { timeoutMs?: number } = {}): Promise<HostReply> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const f: InFlight = { req, resolve, reject, sentAt: 0, timer: null, attempts: 0 };
      this.inflight.set(id, f);
      if (opts.timeoutMs) {
        f.timer = setTimeout(() => {
          if (this.inflight.delete(id)) reject(new Error(`the host did not answer within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      if (this.st.state === "not-installed" && !this.port) {
        // Fail fast so pages are not held back; a retry is scheduled anyway.
        this.inflight.delete(id);
        if (f.timer) clearTimeout(f.timer);
        reject(new Error(this.st.message));
        return;
      }
      this.queue.push(id);
      this.pump();
    });
  }

  private setStatus(patch: Partial<HostStatus>): void {
    const changed = patch.state !== undefined && patch.state !== this.st.state;
    this.st = { ...this.st, ...patch, since: changed ? Date.now() : this.st.since };
    for (const cb of this.listeners) cb(this.st);
  }

  private pump(): void {
    if (!this.port) {
      if (!this.retryTimer) this.connect();
      return;
    }
    // Hello must be answered first: it tells whether the model is ready.
    while (this.queue.length) {
      const id = this.queue.shift()!;
      const f = this.inflight.get(id);
      if (!f) continue;
      f.sentAt = performance.now();
      f.attempts++;
      try {
        this.port.postMessage({ ...f.req, request_id: id });
      } catch (e) {
        this.queue.unshift(id);
        this.onDisconnect(String(e));
        return;
      }
    }
  }

  private connect(): void {
    if (this.port) return;
    this.retryTimer = null;
    this.setStatus({ state: "connecting", message: "Connecting to the Feedwarden host…" });
    let port: chrome.runtime.Port;
    try {
      port = api.runtime.connectNative(this.hostName);
    } catch (e) {
      this.onDisconnect(String(e));
      return;
    }
    this.port = port;
    port.onMessage.addListener((msg: unknown) => this.onMessage(msg));
    port.onDisconnect.addListener(() => {
      const err = api.runtime.lastError?.message ?? (port as unknown as { error?: { message?: string } }).error?.message;
      if (this.port === port) this.onDisconnect(err);
    });
    // Say hello before anything queued.
    const helloId = this.nextId++;
    this.inflight.set(helloId, {
      req: { type: "hello", protocols: [1], client: CLIENT },
      resolve: (r) => this.onHello(r),
      reject: () => {},
      sentAt: performance.now(),
      timer: null,
      attempts: 1,
    });
    try {
      port.postMessage({ type: "hello", protocols: [1], client: CLIENT, request_id: helloId });
    } catch (e) {
      this.onDisconnect(String(e));
      return;
    }
    this.pump();
  }

  private onHello(r: HostReply): void {
    if (r.type !== "hello") {
      this.setStatus({ state: "error", message: `The host answered hello with ${r.type}.` });
      return;
    }
    const hello = r as HelloReply;
    this.failures = 0;
    if (!hello.ready) {
      this.setStatus({
        state: "model-unavailable",
        hello,
        message: hello.error ?? "The host is running but its model is not installed.",
      });
    } else {
      this.setStatus({ state: "connected", hello, message: `Connected to ${hello.host} ${hello.version}.` });
    }
  }

  private onMessage(msg: unknown): void {
    if (!msg || typeof msg !== "object") return;
    const m = msg as { request_id?: unknown } & HostReply;
    const id = typeof m.request_id === "number" ? m.request_id : -1;
    const f = this.inflight.get(id);
    if (!f) return;
    this.inflight.delete(id);
    if (f.timer) clearTimeout(f.timer);
    if (m.type === "verdicts") this.recordLatency(performance.now() - f.sentAt);
    f.resolve(m);
  }

  private recordLatency(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > 200) this.latencies.splice(0, this.latencies.length - 200);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    this.st = { ...this.st, latency: { p50: q(0.5), p95: q(0.95), n: sorted.length } };
  }

  private onDisconnect(err: string | undefined): void {
    this.port = null;
    const d = describeDisconnect(err);
    this.failures++;
    this.setStatus({ ...d });
    // Requests in flight go back to the queue (sent again after reconnecting) unless tried too often.
    for (const [id, f] of this.inflight) {
      if (f.req.type === "hello") {
        this.inflight.delete(id);
        continue;
      }
      if (d.state === "not-installed" || f.attempts >= MAX_ATTEMPTS) {
        this.inflight.delete(id);
        if (f.timer) clearTimeout(f.timer);
        f.reject(new Error(d.message));
      } else if (!this.queue.includes(id)) {
        this.queue.push(id);
      }
    }
    const delay = BACKOFF_MS[Math.min(this.failures - 1, BACKOFF_MS.length - 1)];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), d.state === "not-installed" ? Math.max(delay, 5000) : delay);
  }
}
