// Bluesky web (bsky.app). Built and tested against a real saved page (../shared/data/feeds/bluesky-html,
// tests/e2e/adapters.test.mjs). React Native Web generates its class names (css-175oi2r, r-…), so nothing
// here uses them: posts, text and buttons carry data-testid attributes, links carry roles and hrefs.
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const BLUESKY_SELECTORS = {
  /** A feed item (timeline, custom feed) or a post in a thread view (no saved thread page tests that one); the
   * testid ends with the author's handle. */
  post: '[data-testid^="feedItem-by-"], [data-testid^="postThreadItem-by-"]',
  text: '[data-testid="postText"]',
  /** An embedded (quoted) post is a role=link block of its own inside the item, holding its own permalink. */
  embed: 'div[role="link"]',
  /** A quoted post's text has no testid: it is the word-wrapped text block of the embed. */
  embedText: '[data-testid="postText"], [data-word-wrap]',
  permalink: 'a[href*="/post/"]',
  images: 'img[src*="/img/feed_thumbnail/"], img[src*="/img/feed_fullsize/"]',
};

/** "/profile/<handle>/post/<rkey>" → handle. */
function handleOf(href: string | null | undefined): string | undefined {
  return /\/profile\/([^/?#]+)\/post\//.exec(href ?? "")?.[1];
}

export const blueskyAdapter: SiteAdapter = {
  id: "bluesky",
  hosts: ["bsky.app"],
  post: BLUESKY_SELECTORS.post,
  extract(el) {
    const S = BLUESKY_SELECTORS;
    const embed = [...el.querySelectorAll(S.embed)].find((e) => e.querySelector(S.permalink)) ?? null;
    const outside = (n: Element): boolean => !embed || !embed.contains(n);
    const own = [...el.querySelectorAll(S.text)].find(outside);
    const text = textOf(own);
    const quoted = embed ? textOf(embed.querySelector(S.embedText)) : "";
    const images = imgSrcs(el, S.images);
    if (!text && !quoted && !images.length) return null; // still loading
    const link = [...el.querySelectorAll<HTMLAnchorElement>(S.permalink)].find(outside);
    const handle = handleOf(link?.getAttribute("href")) ?? (el.getAttribute("data-testid") ?? "").replace(/^(feedItem|postThreadItem)-by-/, "");
    return {
      text,
      quoted_text: quoted || undefined,
      author: handle ? `@${handle}` : undefined,
      images,
      url: absUrl(link?.getAttribute("href")),
    };
  },
};
