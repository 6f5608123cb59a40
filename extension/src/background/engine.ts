// What the background needs from whatever judges posts: the native host (native-engine.ts), with the
// in-extension WASM engine as a fallback (fallback-engine.ts). The engine is picked in index.ts, so the
// content scripts and UI pages never know which engine answered.
import type { HostStatus } from "../shared/messages";
import type { HostReply, HostRequest, Verdict } from "../shared/protocol";

export interface RequestOptions {
  timeoutMs?: number;
  /** For `classify`: called once per post whose verdict came with `images_pending: true`, when the host
   * sends that post's full verdict (`verdict.update`). Never called for an engine that judges no images. */
  onUpdate?: (verdict: Verdict) => void;
  /** Who asked, for the pending-update table (a tab and frame; only for logs and bounds). */
  origin?: string;
}

export interface Engine {
  /** Send one request; resolves with the reply (an `error` reply is a resolved value, not a rejection).
   * Rejects when the engine is unavailable (not installed, crashed and not back yet). */
  request(req: HostRequest, opts?: RequestOptions): Promise<HostReply>;
  status(): HostStatus;
  /** Drop the connection and connect again now (the popup's "retry"). */
  reconnect(): void;
  onStatusChange(cb: (s: HostStatus) => void): void;
  /** The page `origin` went away: drop the work still waiting for its posts (pending image and VLM updates).
   * Returns how many requests were cancelled. */
  cancelOrigin(origin: string): number;
}
