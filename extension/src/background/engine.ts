// What the background needs from whatever judges posts. Today: the native host (native-engine.ts). Issue 4
// adds an in-extension WASM engine as a fallback; it implements the same interface and is picked in
// index.ts, so the content scripts and UI pages never know which engine answered.
import type { HostStatus } from "../shared/messages";
import type { HostReply, HostRequest } from "../shared/protocol";

export interface Engine {
  /** Send one request; resolves with the reply (an `error` reply is a resolved value, not a rejection).
   * Rejects when the engine is unavailable (not installed, crashed and not back yet). */
  request(req: HostRequest, opts?: { timeoutMs?: number }): Promise<HostReply>;
  status(): HostStatus;
  /** Drop the connection and connect again now (the popup's "retry"). */
  reconnect(): void;
  onStatusChange(cb: (s: HostStatus) => void): void;
}
