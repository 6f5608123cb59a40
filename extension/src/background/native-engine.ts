// The native host as an Engine: one long-lived `connectNative` port (it keeps the host warm and, in
// Chromium, the service worker alive), request ids, reconnect with backoff, and re-sending requests that
// were in flight when the host went away. Verdicts that came with `images_pending: true` are remembered
// (request id → who asked and which posts, bounded and with a timeout) so the host's later
// `verdict.update` frames reach the page that asked.
import { api } from "../shared/browser";
import { CLIENT, HOST_NAME, INSTALL_FROM_CHECKOUT } from "../shared/constants";
import type { HostState, HostStatus } from "../shared/messages";
import type { HelloReply, HostReply, HostRequest, Verdict } from "../shared/protocol";
import type { Engine, RequestOptions } from "./engine";

interface InFlight {
  req: HostRequest;
  resolve: (r: HostReply) => void;
  reject: (e: Error) => void;
  sentAt: number;
  timer: ReturnType<typeof setTimeout> | null;
  attempts: number;
  onUpdate?: (v: Verdict) => void;
  origin?: string;
}

/** A classify request some of whose posts still wait for their images' verdict. */
interface PendingUpdates {
  postIds: Set<string>;
  onUpdate: (v: Verdict) => void;
  origin: string;
  expiresAt: number;
}

/** At most this many posts wait for a `verdict.update` at once (oldest requests dropped first)… */
export const MAX_PENDING_UPDATE_POSTS = 2000;
/** …and each waits at most this long (the host's image work is bounded well below it). */
export const PENDING_UPDATE_TIMEOUT_MS = 60_000;

const BACKOFF_MS = [200, 500, 1000, 2000, 5000, 10000, 30000];
const MAX_ATTEMPTS = 3;

function describeDisconnect(err: string | undefined): { state: HostState; message: string } {
  const e = err ?? "";
  if (/not found|no such native application|not installed|manifest/i.test(e)) {
    return {
      state: "not-installed",
      // Said once: the popup and the options page add how to install it (and a Retry button).
      message: "The Feedwarden host is not installed for this browser.",
    };
  }
  if (/forbidden|access/i.test(e)) {
    return {
      state: "not-installed",
      message: "The Feedwarden host does not allow this extension (wrong id in its manifest): install it again.",
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
  private pendingUpdates = new Map<number, PendingUpdates>();
  private pendingUpdatePosts = 0;
  private pendingSweep: ReturnType<typeof setTimeout> | null = null;
  private st: HostStatus = {
    state: "connecting",
    message: "Connecting to the Feedwarden host…",
    hello: null,
    latency: null,
    installCommand: INSTALL_FROM_CHECKOUT,
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

  request(req: HostRequest, opts: RequestOptions = {}): Promise<HostReply> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      // A correction carries a key of its own, the same when it is re-sent after a disconnect, so the host
      // stores it once even when the first host committed it and died before answering (docs/protocol.md).
      if (req.type === "feedback") req = { ...req, idempotency_key: crypto.randomUUID() } as HostRequest;
      const f: InFlight = { req, resolve, reject, sentAt: 0, timer: null, attempts: 0, onUpdate: opts.onUpdate, origin: opts.origin };
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
    const m = msg as { request_id?: unknown; type?: unknown };
    const id = typeof m.request_id === "number" ? m.request_id : -1;
    if (m.type === "verdict.update") return this.onVerdictUpdate(id, (msg as { verdict?: unknown }).verdict);
    const f = this.inflight.get(id);
    if (!f) return;
    this.inflight.delete(id);
    if (f.timer) clearTimeout(f.timer);
    const reply = msg as HostReply;
    if (reply.type === "verdicts") {
      this.recordLatency(performance.now() - f.sentAt);
      if (f.onUpdate) this.rememberPending(id, reply.verdicts, f.onUpdate, f.origin ?? "");
    }
    f.resolve(reply);
  }

  /** Posts of request `id` whose images are still being judged: their update goes to `onUpdate`. */
  private rememberPending(id: number, verdicts: Verdict[], onUpdate: (v: Verdict) => void, origin: string): void {
    const postIds = new Set(verdicts.filter((v) => v.images_pending === true).map((v) => v.id));
    if (!postIds.size) return;
    this.pendingUpdates.set(id, { postIds, onUpdate, origin, expiresAt: Date.now() + PENDING_UPDATE_TIMEOUT_MS });
    this.pendingUpdatePosts += postIds.size;
    // Bound: drop the oldest requests (a Map iterates in insertion order) until the posts fit.
    for (const [oldId, p] of this.pendingUpdates) {
      if (this.pendingUpdatePosts <= MAX_PENDING_UPDATE_POSTS || oldId === id) break;
      this.dropPending(oldId, p);
    }
    this.schedulePendingSweep();
  }

  private onVerdictUpdate(id: number, raw: unknown): void {
    const p = this.pendingUpdates.get(id);
    if (!p || !raw || typeof raw !== "object") return;
    const v = raw as Verdict;
    if (typeof v.id !== "string" || !p.postIds.has(v.id)) return; // not a post that is waiting: ignore
    if (v.images_pending === true) {
      // One more update follows for this post (the VLM is looking at its images): keep waiting for it.
      p.expiresAt = Date.now() + PENDING_UPDATE_TIMEOUT_MS;
    } else {
      p.postIds.delete(v.id);
      this.pendingUpdatePosts--;
      if (!p.postIds.size) this.pendingUpdates.delete(id);
    }
    try {
      p.onUpdate(v);
    } catch {
      /* the page that asked is gone */
    }
  }

  private dropPending(id: number, p: PendingUpdates): void {
    this.pendingUpdates.delete(id);
    this.pendingUpdatePosts -= p.postIds.size;
  }

  private schedulePendingSweep(): void {
    if (this.pendingSweep || !this.pendingUpdates.size) return;
    this.pendingSweep = setTimeout(() => {
      this.pendingSweep = null;
      const now = Date.now();
      for (const [id, p] of this.pendingUpdates) if (p.expiresAt <= now) this.dropPending(id, p);
      this.schedulePendingSweep();
    }, 5000);
  }

  /** The page `origin` went away (its port closed): forget the updates its requests still wait for and tell
   * the host to drop their remaining work (`cancel`: the VLM's queue), so a closed tab costs nothing more.
   * Returns how many requests were cancelled. */
  cancelOrigin(origin: string): number {
    const requests: number[] = [];
    for (const [id, p] of this.pendingUpdates) {
      if (p.origin !== origin) continue;
      requests.push(id);
      this.dropPending(id, p);
    }
    if (requests.length && this.port) {
      try {
        // Fire and forget: the `cancelled` reply has no waiting request, so it is ignored.
        this.port.postMessage({ type: "cancel", request_id: this.nextId++, requests } satisfies HostRequest);
      } catch {
        /* the host is gone: nothing left to cancel */
      }
    }
    return requests.length;
  }

  /** How many posts wait for a `verdict.update` now (tests). */
  pendingUpdateCount(): number {
    return this.pendingUpdatePosts;
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
    // A new host process knows nothing of the old one's pending images; pages re-send such posts themselves.
    this.pendingUpdates.clear();
    this.pendingUpdatePosts = 0;
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
