// Reddit: new (www.reddit.com, shreddit web components) and old (old.reddit.com). Fixtures in
// tests/e2e/fixtures/reddit-new.html and reddit-old.html follow their markup.
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const REDDIT_NEW_SELECTORS = {
  post: "shreddit-post, shreddit-comment",
  title: '[slot="title"], a[id^="post-title"]',
  body: '[slot="text-body"], [slot="comment"]',
  images: 'img[src*="redd.it"], img[src*="redditmedia.com"]',
  keepVisible: "shreddit-comment",
};

export const OLD_REDDIT_SELECTORS = {
  post: "div.thing.link, div.thing.comment",
  title: "a.title",
  body: ":scope > .entry .usertext-body .md",
  images: ":scope > .entry img, :scope > a.thumbnail img",
  keepVisible: ".child",
};

export const redditAdapter: SiteAdapter = {
  id: "reddit",
  hosts: ["www.reddit.com", "reddit.com", "new.reddit.com", "sh.reddit.com"],
  post: REDDIT_NEW_SELECTORS.post,
  keepVisible: REDDIT_NEW_SELECTORS.keepVisible,
  extract(el) {
    const S = REDDIT_NEW_SELECTORS;
    const isComment = el.localName === "shreddit-comment";
    const title = isComment ? "" : el.getAttribute("post-title") ?? textOf(el.querySelector(S.title));
    // A comment's own body, not its replies' bodies.
    const body = [...el.querySelectorAll(S.body)].find((b) => b.closest("shreddit-post, shreddit-comment") === el);
    const text = [title, textOf(body)].filter(Boolean).join("\n\n");
    if (!text) return null;
    return {
      text,
      author: el.getAttribute("author") ? `u/${el.getAttribute("author")}` : undefined,
      images: isComment ? [] : imgSrcs(el, S.images),
      url: absUrl(el.getAttribute("permalink")),
      created_at: el.getAttribute("created-timestamp") ?? undefined,
    };
  },
};

export const oldRedditAdapter: SiteAdapter = {
  id: "reddit",
  hosts: ["old.reddit.com"],
  post: OLD_REDDIT_SELECTORS.post,
  keepVisible: OLD_REDDIT_SELECTORS.keepVisible,
  extract(el) {
    const S = OLD_REDDIT_SELECTORS;
    const title = textOf(el.querySelector(S.title));
    const text = [title, textOf(el.querySelector(S.body))].filter(Boolean).join("\n\n");
    if (!text) return null;
    const author = el.getAttribute("data-author");
    return {
      text,
      author: author ? `u/${author}` : undefined,
      images: imgSrcs(el, S.images),
      url: absUrl(el.getAttribute("data-permalink")),
      created_at: el.querySelector(":scope > .entry time[datetime]")?.getAttribute("datetime") ?? undefined,
    };
  },
};
