// Reader settings kept in storage.local (the policy itself lives in the host's data folder).
import { api } from "./browser";

export type PendingStyle = "hidden" | "blurred" | "dimmed";
export type SiteId = "x" | "reddit" | "bluesky" | "mastodon" | "youtube" | "threads" | "linkedin";
/** Every site with an adapter (src/adapters), as the reader sees it named in the options. */
export const SITE_NAMES: Record<SiteId, string> = {
  x: "X",
  reddit: "Reddit",
  bluesky: "Bluesky",
  mastodon: "Mastodon",
  youtube: "YouTube",
  threads: "Threads",
  linkedin: "LinkedIn",
};
export const SITE_IDS = Object.keys(SITE_NAMES) as SiteId[];

export interface Settings {
  paused: boolean;
  sites: Record<SiteId, boolean>;
  /** How a post looks while its verdict is pending. */
  pendingStyle: PendingStyle;
  /** After this long without a verdict a post is shown, and judged late when the verdict comes. */
  pendingTimeoutMs: number;
  /** How long the host may wait for a post's images before answering with the text-only verdict (updated
   * when the images are judged); 0 = never wait; null = the host's default (about 150 ms). */
  imageBudgetMs: number | null;
  /** Judge in the browser (the WASM fallback) while the host is missing or down; false: posts wait, then show. */
  fallback: boolean;
  /** Content scripts publish timing counters on the page (tests and benchmarks). */
  metrics: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  paused: false,
  sites: Object.fromEntries(SITE_IDS.map((id) => [id, true])) as Record<SiteId, boolean>,
  pendingStyle: "hidden",
  pendingTimeoutMs: 1500,
  imageBudgetMs: null,
  fallback: true,
  metrics: false,
};

export const SETTINGS_KEY = "settings";

/** Merge what is stored over the defaults, ignoring anything malformed. */
export function normalizeSettings(raw: unknown): Settings {
  const s: Settings = structuredClone(DEFAULT_SETTINGS);
  if (!raw || typeof raw !== "object") return s;
  const r = raw as Record<string, unknown>;
  if (typeof r.paused === "boolean") s.paused = r.paused;
  if (r.sites && typeof r.sites === "object") {
    for (const id of SITE_IDS) {
      const v = (r.sites as Record<string, unknown>)[id];
      if (typeof v === "boolean") s.sites[id] = v;
    }
  }
  if (r.pendingStyle === "hidden" || r.pendingStyle === "blurred" || r.pendingStyle === "dimmed") {
    s.pendingStyle = r.pendingStyle;
  }
  if (typeof r.pendingTimeoutMs === "number" && r.pendingTimeoutMs >= 100 && r.pendingTimeoutMs <= 30000) {
    s.pendingTimeoutMs = r.pendingTimeoutMs;
  }
  if (r.imageBudgetMs === null || (typeof r.imageBudgetMs === "number" && Number.isInteger(r.imageBudgetMs) && r.imageBudgetMs >= 0 && r.imageBudgetMs <= 10000)) {
    s.imageBudgetMs = r.imageBudgetMs;
  }
  if (typeof r.fallback === "boolean") s.fallback = r.fallback;
  if (typeof r.metrics === "boolean") s.metrics = r.metrics;
  return s;
}

export async function loadSettings(): Promise<Settings> {
  const got = await api.storage.local.get(SETTINGS_KEY);
  return normalizeSettings(got[SETTINGS_KEY]);
}

export async function saveSettings(patch: Partial<Settings>): Promise<Settings> {
  const cur = await loadSettings();
  const next = normalizeSettings({ ...cur, ...patch, sites: { ...cur.sites, ...(patch.sites ?? {}) } });
  await api.storage.local.set({ [SETTINGS_KEY]: next });
  return next;
}
