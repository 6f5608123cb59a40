// YouTube (www.youtube.com). Video tiles are built and tested against a real saved home page
// (../shared/data/feeds/youtube-html, tests/e2e/adapters.test.mjs): regular tiles (ytd-rich-grid-media) and
// Shorts tiles (ytm-shorts-lockup-view-model) inside ytd-rich-item-renderer. Anchors are YouTube's element
// names, ids and hrefs (/watch?v=…, /shorts/…, /@handle), not its style classes. Comments
// (ytd-comment-view-model, #content-text) are checked only against a hand-written fixture
// (tests/e2e/fixtures/youtube.html): no real saved watch page exists yet.
import { absUrl, textOf, type SiteAdapter } from "./types";

export const YOUTUBE_SELECTORS = {
  post: "ytd-rich-item-renderer, ytd-video-renderer, ytd-compact-video-renderer, ytd-comment-view-model, ytd-comment-renderer",
  /** The video's own link: regular tiles link /watch?v=<id>, Shorts /shorts/<id>. */
  videoLink: 'a[href*="/watch?v="], a[href^="/shorts/"], a[href*="youtube.com/shorts/"]',
  /** The title, first match wins: #video-title on regular tiles, the heading's link (with a title attribute)
   * on Shorts, the heading itself on other lockups. */
  titles: ["#video-title", "h3 a[title]", "h3"],
  /** The channel's link, first match wins: its /@handle (the avatar's and the name's link), else /channel/<id>. */
  channels: ['a[href^="/@"]', 'a[href^="/channel/"]', "ytd-channel-name a[href]"],
  commentText: "#content-text",
  commentAuthor: "#author-text",
  keepVisible: "ytd-comment-replies-renderer, #replies",
};

/** Video id of a /watch?v=<id> or /shorts/<id> link. */
function videoId(href: string | null | undefined): string | undefined {
  return /[?&]v=([\w-]{6,})|\/shorts\/([\w-]{6,})/.exec(href ?? "")?.slice(1).find(Boolean);
}

/** "/@handle" → "@handle"; "/channel/UC…" → "channel/UC…". */
function channelOf(a: Element | null): string | undefined {
  const href = a?.getAttribute("href") ?? "";
  const m = /\/(@[^/?#]+)|\/(channel\/[^/?#]+)/.exec(href);
  return m?.[1] ?? m?.[2] ?? (textOf(a) || undefined);
}

export const youtubeAdapter: SiteAdapter = {
  id: "youtube",
  hosts: ["www.youtube.com", "m.youtube.com", "youtube.com"],
  post: YOUTUBE_SELECTORS.post,
  keepVisible: YOUTUBE_SELECTORS.keepVisible,
  extract(el) {
    const S = YOUTUBE_SELECTORS;
    if (el.localName.startsWith("ytd-comment")) {
      const text = textOf(el.querySelector(S.commentText));
      if (!text) return null;
      return { text, author: textOf(el.querySelector(S.commentAuthor)) || undefined };
    }
    const link = el.querySelector(S.videoLink);
    const id = videoId(link?.getAttribute("href"));
    const titleEl = S.titles.map((t) => el.querySelector(t)).find(Boolean);
    const text = textOf(titleEl) || titleEl?.getAttribute("title")?.trim() || "";
    if (!text || !id) return null; // an ad slot, or a tile still loading
    return {
      text,
      author: channelOf(S.channels.map((c) => el.querySelector(c)).find(Boolean) ?? null),
      // The tile's own <img> is filled in lazily (empty src until scrolled into view); the video's thumbnail
      // has a fixed address, so every tile sends the same image whatever has loaded.
      images: [`https://i.ytimg.com/vi/${id}/hqdefault.jpg`],
      url: absUrl(link?.getAttribute("href")),
    };
  },
};
