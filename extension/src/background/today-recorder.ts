// Keeps the popup's "today" record (shared/today-log.ts) up to date from the verdicts the background hands
// to pages: updates are applied in order to one in-memory copy and written to storage.local at most once
// every SAVE_DELAY_MS (a service worker may stop at any time: at most that much is lost).
import { api } from "../shared/browser";
import type { Post, Verdict } from "../shared/protocol";
import { parseLog, recordVerdicts, TODAY_LOG_KEY, type TodayLog } from "../shared/today-log";

const SAVE_DELAY_MS = 1000;

export class TodayRecorder {
  private log: Promise<TodayLog | null> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  /** Record the verdicts of `posts` (verdicts for other ids are ignored). */
  record(posts: Post[], verdicts: Verdict[]): void {
    this.log = (this.log ?? this.load()).then((log) => recordVerdicts(log, posts, verdicts));
    this.scheduleSave();
  }

  private async load(): Promise<TodayLog | null> {
    try {
      return parseLog((await api.storage.local.get(TODAY_LOG_KEY))[TODAY_LOG_KEY]);
    } catch {
      return null;
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.log?.then((log) => (log ? api.storage.local.set({ [TODAY_LOG_KEY]: log }) : undefined)).catch(() => {});
    }, SAVE_DELAY_MS);
  }
}
