// Bluesky web (bsky.app). Its React Native Web markup exposes data-testid attributes; fixture:
// tests/e2e/fixtures/bluesky.html.
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const BLUESKY_SELECTORS = {
  post: '[data-testid^="feedItem-by-"], [data-testid^="postThreadItem-by-"]',
  text: '[data-testid="postText"]',
  quote: '[aria-label^="Post by"][role="link"], [data-testid="quotePost"]',
  images: 'img[src*="cdn.bsky.app/img/feed_thumbnail"], img[src*="cdn.bsky.app/img/feed_fullsize"]',
  permalink: 'a[href*="/post/"]',
  followButton: '[data-testid="followBtn"]',
};

export const blueskyAdapter: SiteAdapter = {
  id: "bluesky",
  hosts: ["bsky.app"],
  post: BLUESKY_SELECTORS.post,
  extract(el) {
    const S = BLUESKY_SELECTORS;
    const testid = el.getAttribute("data-testid") ?? "";
    const handle = testid.replace(/^(feedItem|postThreadItem)-by-/, "");
    const quote = el.querySelector(S.quote);
    const texts = [...el.querySelectorAll(S.text)];
    const own = texts.find((t) => !quote || !quote.contains(t));
    const quoted = quote ? texts.find((t) => quote.contains(t)) : undefined;
    const text = textOf(own);
    if (!text && !quoted) return null;
    const link = el.querySelector<HTMLAnchorElement>(S.permalink);
    return {
      text,
      quoted_text: textOf(quoted) || undefined,
      author: handle ? `@${handle}` : undefined,
      author_followed: el.querySelector(S.followButton) ? false : undefined,
      images: imgSrcs(el, S.images),
      url: absUrl(link?.getAttribute("href")),
    };
  },
};
