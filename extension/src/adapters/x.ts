// X (x.com, twitter.com). Built and tested against real saved pages (../shared/data/feeds/x-html).
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const X_SELECTORS = {
  post: 'article[data-testid="tweet"]',
  text: '[data-testid="tweetText"]',
  userName: '[data-testid="User-Name"]',
  /** A quoted tweet is a role=link block inside the article that has its own User-Name. */
  quote: 'div[role="link"]',
  photo: '[data-testid="tweetPhoto"] img, [data-testid="card.layoutLarge.media"] img',
  time: "time[datetime]",
  /** "Follow" button shown on the post means the reader does not follow the author. */
  followButton: '[data-testid$="-follow"]',
  unfollowButton: '[data-testid$="-unfollow"]',
};

export const xAdapter: SiteAdapter = {
  id: "x",
  hosts: ["x.com", ".x.com", "twitter.com", ".twitter.com"],
  post: X_SELECTORS.post,
  extract(el) {
    const S = X_SELECTORS;
    const quote = [...el.querySelectorAll(S.quote)].find((q) => q.querySelector(S.userName)) ?? null;
    const texts = [...el.querySelectorAll(S.text)];
    const own = texts.find((t) => !quote || !quote.contains(t));
    const quoted = quote ? texts.find((t) => quote.contains(t)) : undefined;
    const nameLink = el.querySelector<HTMLAnchorElement>(`${S.userName} a[href]`);
    const handle = absUrl(nameLink?.getAttribute("href"))?.replace(/^https?:\/\/[^/]+\//, "").split(/[/?#]/)[0];
    const time = [...el.querySelectorAll<HTMLTimeElement>(S.time)].find((t) => !quote || !quote.contains(t));
    const text = textOf(own);
    const quotedText = textOf(quoted);
    if (!text && !quotedText && !el.querySelector(S.photo)) return null;
    return {
      text,
      quoted_text: quotedText || undefined,
      author: handle ? `@${handle}` : undefined,
      author_followed: el.querySelector(S.unfollowButton) ? true : el.querySelector(S.followButton) ? false : undefined,
      images: imgSrcs(el, S.photo),
      url: absUrl(time?.closest("a")?.getAttribute("href")),
      created_at: time?.getAttribute("datetime") ?? undefined,
    };
  },
};
