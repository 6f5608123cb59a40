// What the reader's browser judged today, for the popup: each post counted once, and the filtered ones
// listed (site, rule, action, reason, a short text snippet, the permalink). Kept in storage.local only.
//
// Private by construction: it lives in this browser's storage.local (never sent anywhere, not even to the
// host), is bounded (MAX_JUDGED post fingerprints, MAX_FILTERED entries, snippets cut to SNIPPET_CHARS) and
// starts over every day. A post is recognised by a fingerprint of its site and permalink (or author and text
// when it has none), so a post judged again (after a policy change, feedback, a reload or an image update) replaces its own entry
// instead of counting twice; one that is now shown leaves the filtered list.
import type { Action, Post, Verdict } from "../shared/protocol";

export const TODAY_LOG_KEY = "todayLog";
/** Distinct posts remembered per day for counting (a fingerprint of ~11 characters each). */
export const MAX_JUDGED = 10_000;
/** Filtered posts listed per day (the most recent kept). */
export const MAX_FILTERED = 300;
export const SNIPPET_CHARS = 140;
const MAX_REASON_CHARS = 300;

export interface FilteredEntry {
  /** The post's fingerprint. */
  key: string;
  site: string;
  rule: string;
  action: Action;
  reason: string;
  snippet: string;
  /** The post's permalink (http or https on the post's site), when the page gave one. */
  url?: string;
  /** When it was (last) judged, ms since the epoch. */
  at: number;
}

export interface TodayLog {
  /** Local date, YYYY-MM-DD. */
  day: string;
  /** Fingerprints of the posts judged today. */
  judged: string[];
  /** Posts judged after MAX_JUDGED was reached (counted, no longer told apart). */
  judgedBeyond: number;
  filtered: FilteredEntry[];
}

export function localDay(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

export function emptyLog(day: string): TodayLog {
  return { day, judged: [], judgedBeyond: 0, filtered: [] };
}

/** cyrb53: a fast 53-bit string hash, as base-36 text. Enough to tell a day's posts apart. */
function hash53(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** Which post this is: its permalink (with the author) when the page gives one, so a post whose text or
 * quoted post loads later is still the same post; else its author and text. */
export function postFingerprint(post: Post): string {
  const what = post.url ? [post.url, post.author ?? ""] : [post.author ?? "", post.text, post.quoted_text ?? ""];
  return hash53([post.site ?? "", ...what].join("\u0001"));
}

function snippetOf(post: Post): string {
  const t = post.text.replace(/\s+/g, " ").trim() || (post.quoted_text ?? "").replace(/\s+/g, " ").trim();
  return t.length > SNIPPET_CHARS ? `${t.slice(0, SNIPPET_CHARS - 1)}…` : t;
}

/** The permalink, only when it is an http(s) URL on the post's own site (the page chose it: never a
 * `javascript:` link or another site's address in the popup). */
function safePermalink(post: Post): string | undefined {
  if (!post.url || !post.site) return undefined;
  try {
    const u = new URL(post.url);
    const host = u.hostname.toLowerCase();
    const site = post.site.toLowerCase();
    if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
    const sameSite = host === site || host.endsWith(`.${site}`) || site.endsWith(`.${host}`) || site.replace(/^www\./, "") === host.replace(/^www\./, "");
    return sameSite ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const FILTERED: ReadonlySet<Action> = new Set<Action>(["hide", "blur", "label"]);

/** The fingerprints of a log's `judged`, kept beside it so a batch costs no copy of the whole day. */
const judgedSets = new WeakMap<TodayLog, Set<string>>();

/** Record the verdicts of `posts` in `log`, which is updated in place and returned; a new log when `log` is
 * null or from another day. */
export function recordVerdicts(log: TodayLog | null, posts: Post[], verdicts: Verdict[], now = new Date()): TodayLog {
  const day = localDay(now);
  const out: TodayLog = log && log.day === day ? log : emptyLog(day);
  let seen = judgedSets.get(out);
  if (!seen) judgedSets.set(out, (seen = new Set(out.judged)));
  const byId = new Map(posts.map((p) => [p.id, p]));
  for (const v of verdicts) {
    const post = byId.get(v.id);
    if (!post) continue;
    const key = postFingerprint(post);
    if (!seen.has(key)) {
      if (out.judged.length < MAX_JUDGED) {
        out.judged.push(key);
        seen.add(key);
      } else out.judgedBeyond++;
    }
    const at = out.filtered.findIndex((f) => f.key === key);
    if (at >= 0) out.filtered.splice(at, 1);
    if (FILTERED.has(v.action) && v.rule) {
      const url = safePermalink(post);
      out.filtered.push({
        key,
        site: post.site ?? "",
        rule: v.rule,
        action: v.action,
        reason: v.reason.slice(0, MAX_REASON_CHARS),
        snippet: snippetOf(post),
        ...(url ? { url } : {}),
        at: now.getTime(),
      });
    }
  }
  if (out.filtered.length > MAX_FILTERED) out.filtered.splice(0, out.filtered.length - MAX_FILTERED);
  return out;
}

/** A stored value read back, or null when it is missing or malformed (then the day starts over). */
export function parseLog(raw: unknown): TodayLog | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Partial<TodayLog>;
  if (typeof r.day !== "string" || !Array.isArray(r.judged) || !Array.isArray(r.filtered)) return null;
  return { day: r.day, judged: r.judged.filter((k) => typeof k === "string"), judgedBeyond: Number(r.judgedBeyond) || 0, filtered: r.filtered.filter((f) => f && typeof f === "object" && typeof f.key === "string") };
}

/** Counts for the popup: posts judged today (each once) and the filtered ones by category and by site. */
export function summarize(log: TodayLog | null, now = new Date()) {
  const cur = log && log.day === localDay(now) ? log : emptyLog(localDay(now));
  const byRule = new Map<string, number>();
  const bySite = new Map<string, number>();
  for (const f of cur.filtered) {
    byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
    bySite.set(f.site, (bySite.get(f.site) ?? 0) + 1);
  }
  return { judged: cur.judged.length + cur.judgedBeyond, filtered: cur.filtered.length, byRule, bySite, entries: cur.filtered };
}
