// Every site adapter, and which one handles a host name. Selectors live in each adapter file's *_SELECTORS.
import { blueskyAdapter } from "./bluesky";
import { linkedinAdapter } from "./linkedin";
import { mastodonAdapter } from "./mastodon";
import { oldRedditAdapter, redditAdapter } from "./reddit";
import { threadsAdapter } from "./threads";
import type { SiteAdapter } from "./types";
import { xAdapter } from "./x";
import { youtubeAdapter } from "./youtube";

export const ADAPTERS: SiteAdapter[] = [
  xAdapter,
  oldRedditAdapter,
  redditAdapter,
  blueskyAdapter,
  mastodonAdapter,
  youtubeAdapter,
  threadsAdapter,
  linkedinAdapter,
];

export function adapterFor(hostname: string): SiteAdapter | null {
  const h = hostname.toLowerCase();
  for (const a of ADAPTERS) {
    for (const e of a.hosts) {
      if (e.startsWith(".") ? h.endsWith(e) : h === e) return a;
    }
  }
  return null;
}

/** Manifest match patterns for every adapter host (used by build.mjs). */
export function matchPatterns(): string[] {
  const out = new Set<string>();
  for (const a of ADAPTERS) for (const e of a.hosts) out.add(e.startsWith(".") ? `*://*${e}/*` : `*://${e}/*`);
  return [...out];
}
