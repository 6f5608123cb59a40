// Mastodon web (any instance; the manifest lists the large ones). Fixture: tests/e2e/fixtures/mastodon.html.
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const MASTODON_SELECTORS = {
  post: "div.status[data-id], div.detailed-status",
  text: ".status__content__text, .status__content",
  spoiler: ".status__content .spoiler-button, .status__content p:first-child",
  account: ".display-name__account",
  images: ".media-gallery img, .media-gallery__item img",
  permalink: "a.status__relative-time, a.detailed-status__datetime",
  time: "time[datetime]",
};

export const MASTODON_HOSTS = [
  "mastodon.social",
  "mastodon.online",
  "mstdn.social",
  "mas.to",
  "fosstodon.org",
  "hachyderm.io",
  "infosec.exchange",
  "mastodon.world",
  "universeodon.com",
  "techhub.social",
];

export const mastodonAdapter: SiteAdapter = {
  id: "mastodon",
  hosts: MASTODON_HOSTS,
  post: MASTODON_SELECTORS.post,
  extract(el) {
    const S = MASTODON_SELECTORS;
    const text = textOf(el.querySelector(S.text));
    if (!text) return null;
    const account = textOf(el.querySelector(S.account));
    return {
      text,
      author: account || undefined,
      images: imgSrcs(el, S.images),
      url: absUrl(el.querySelector(S.permalink)?.getAttribute("href")),
      created_at: el.querySelector(S.time)?.getAttribute("datetime") ?? undefined,
    };
  },
};
