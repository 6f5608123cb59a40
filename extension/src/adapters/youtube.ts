// YouTube (www.youtube.com): video tiles in feeds and search (title + channel) and comments. Fixture:
// tests/e2e/fixtures/youtube.html.
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const YOUTUBE_SELECTORS = {
  post: "ytd-rich-item-renderer, ytd-video-renderer, ytd-compact-video-renderer, ytd-comment-view-model, ytd-comment-renderer",
  title: "#video-title",
  channel: "ytd-channel-name a, #channel-name a",
  commentText: "#content-text",
  commentAuthor: "#author-text",
  thumbnail: "img.yt-core-image, #thumbnail img",
  keepVisible: "ytd-comment-replies-renderer, #replies",
};

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
    const titleEl = el.querySelector(S.title);
    const text = textOf(titleEl) || titleEl?.getAttribute("title") || "";
    if (!text) return null;
    const channel = el.querySelector(S.channel);
    return {
      text,
      author: textOf(channel) || undefined,
      images: imgSrcs(el, S.thumbnail, 1),
      url: absUrl(titleEl?.closest("a")?.getAttribute("href") ?? titleEl?.getAttribute("href")),
    };
  },
};
