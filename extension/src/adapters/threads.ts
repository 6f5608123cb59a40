// Threads (threads.net, threads.com). Built and tested against a real saved home feed
// (../shared/data/feeds/threads-html, tests/e2e/adapters.test.mjs). Threads' class names are generated
// (x1lliihq …) and change with every release, so nothing here uses them. Anchors: the post container's
// data-pressable-container attribute, the permalink (an <a href="/@user/post/<code>"> holding a
// <time datetime>), dir="auto" text paragraphs, and roles (buttons hold counts, not text).
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

const CONTAINER = '[data-pressable-container="true"]';

export const THREADS_SELECTORS = {
  /** A post; a quoted post is a container nested inside another, judged as part of it. */
  post: `${CONTAINER}:not(${CONTAINER} *)`,
  container: CONTAINER,
  /** Paragraphs of a post's text (and of everything else: names, counts, captions on videos). */
  paragraph: 'span[dir="auto"]',
  /** Text that is never the post's: user names, action buttons with their counts. */
  notText: '[translate="no"], [role="button"]',
  permalink: 'a[href*="/post/"]',
  time: "time[datetime]",
  image: "img",
  /** A link to a profile (avatars): /@user without /post/. */
  profileLink: 'a[href^="/@"]:not([href*="/post/"])',
};

/** Avatars and icons are small images (36 px and less) with their size in attributes; media have 100% or
 * their real pixel size. */
const MAX_ICON_PX = 64;

function within(n: Element, selector: string, root: Element): Element | null {
  const c = n.closest(selector);
  return c && root.contains(c) ? c : null;
}

/** The post's own text under `root`, leaving out `skip` (a quoted post): the first paragraph that is not a
 * name, a count, a time or a link to elsewhere, and the paragraphs beside it (one span per paragraph). */
export function threadsText(root: Element, skip: Element | null): string {
  const S = THREADS_SELECTORS;
  for (const p of root.querySelectorAll(S.paragraph)) {
    if (skip?.contains(p)) continue;
    const parent = p.parentElement;
    if (!parent || within(parent, S.paragraph, root)) continue; // nested inside another paragraph
    if (within(p, S.notText, root) || p.querySelector(S.time)) continue;
    // Text inside a link counts only when the link is a post's (a quoted post's body links to it), not a
    // profile, a time stamp or an outside page (link cards).
    const a = within(p, "a", root);
    if (a && (!a.matches(S.permalink) || a.querySelector(S.time))) continue;
    return [...parent.children]
      .filter((c) => c.matches(S.paragraph))
      // Mentions sit in inline-styled <div>s inside a paragraph: one paragraph is one line.
      .map((c) => textOf(c).replace(/\s+/g, " ").trim())
      .filter(Boolean)
      .join("\n");
  }
  return "";
}

function isIcon(img: Element): boolean {
  const w = Number(img.getAttribute("width"));
  const h = Number(img.getAttribute("height"));
  return (w > 0 && w <= MAX_ICON_PX) || (h > 0 && h <= MAX_ICON_PX);
}

export const threadsAdapter: SiteAdapter = {
  id: "threads",
  hosts: ["www.threads.net", "threads.net", "www.threads.com", "threads.com"],
  post: THREADS_SELECTORS.post,
  extract(el) {
    const S = THREADS_SELECTORS;
    const quote = el.querySelector(S.container);
    const outside = (n: Element): boolean => !quote || !quote.contains(n);
    const text = threadsText(el, quote);
    const quoted = quote ? threadsText(quote, null) : "";
    const images = imgSrcs(el, S.image, 4, (img) => !isIcon(img) && !within(img, S.profileLink, el));
    const time = [...el.querySelectorAll(`${S.permalink} ${S.time}`)].find(outside);
    const link = time?.closest("a");
    if (!link || (!text && !quoted && !images.length)) return null; // still loading
    const handle = /\/@([^/?#]+)\/post\//.exec(link.getAttribute("href") ?? "")?.[1];
    return {
      text,
      quoted_text: quoted || undefined,
      author: handle ? `@${handle}` : undefined,
      images,
      url: absUrl(link.getAttribute("href")),
      created_at: time?.getAttribute("datetime") ?? undefined,
    };
  },
};
