// Checks for messages from content scripts, which are untrusted: sizes and types are bounded so a
// compromised page cannot make the background send the host anything but well-formed posts, claim to be
// another site, or name images the background must not fetch (image-urls.ts).
import type { FeedbackKind, Post } from "../shared/protocol";
import { fetchableImages } from "./image-urls";

/** A post's text is cut to this many characters before any engine sees it. */
export const MAX_POST_TEXT_CHARS = 20_000;
const MAX_TEXT = MAX_POST_TEXT_CHARS;
const MAX_SHORT = 500;
const MAX_IMAGES = 8;
export const MAX_POSTS_PER_MESSAGE = 64;

function str(v: unknown, max: number): string | undefined {
  return typeof v === "string" ? v.slice(0, max) : undefined;
}

/** A post from a page on `site` (the sender's host name, from the browser): `site` is set from it whatever
 * the page said, and only the images the background may fetch for that site are kept. */
export function sanitizePost(raw: unknown, site: string): Post | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  const id = str(r.id, 200);
  const text = str(r.text, MAX_TEXT);
  if (!id || text === undefined) return null;
  const p: Post = { id, text };
  const q = str(r.quoted_text, MAX_TEXT);
  if (q) p.quoted_text = q;
  p.site = site;
  const author = str(r.author, MAX_SHORT);
  if (author) p.author = author;
  if (typeof r.author_followed === "boolean") p.author_followed = r.author_followed;
  if (Array.isArray(r.images)) {
    const imgs = fetchableImages(r.images, site);
    if (imgs.length) p.images = imgs.slice(0, MAX_IMAGES);
  }
  const url = str(r.url, 2000);
  if (url) p.url = url;
  const created = str(r.created_at, 100);
  if (created) p.created_at = created;
  return p;
}

export function sanitizePosts(raw: unknown, site: string): Post[] | null {
  if (!Array.isArray(raw) || raw.length > MAX_POSTS_PER_MESSAGE) return null;
  const out: Post[] = [];
  for (const r of raw) {
    const p = sanitizePost(r, site);
    if (!p) return null;
    out.push(p);
  }
  return out;
}

export function sanitizeFeedbackKind(k: unknown): FeedbackKind | null {
  return k === "was_fine" || k === "more_like_this" ? k : null;
}

export function sanitizeRule(r: unknown): string | null {
  return typeof r === "string" && /^[a-z0-9-]{1,64}$/.test(r) ? r : null;
}

/** A page's image budget: an integer number of ms (0 = never wait for images), at most 10 s; anything
 * else means "the host's default" (null). */
export function sanitizeImageBudget(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 10_000 ? v : null;
}
