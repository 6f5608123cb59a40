// LinkedIn (www.linkedin.com). Built and tested against a real saved feed page
// (../shared/data/feeds/linkedin-html, tests/e2e/adapters.test.mjs). LinkedIn's markup has no test ids and
// many of its class names are obfuscated (they change between releases); the anchors here are the post's
// `data-urn` (its stable id), the comment's `data-id`, hrefs (/in/…, /company/…), media addresses, and the
// few long-lived BEM names of its update components (`…actor…`, `update-components-text`).
import { absUrl, imgSrcs, textOf, type SiteAdapter } from "./types";

export const LINKEDIN_SELECTORS = {
  /** One feed update (a post, a repost, a promoted post); job and promotion modules have other URNs. */
  post: '[data-urn^="urn:li:activity:"], [data-urn^="urn:li:share:"], [data-urn^="urn:li:ugcPost:"]',
  /** A comment shown under the post ("X commented on this"): not the post's text. */
  comment: '[data-id^="urn:li:comment:"], [data-urn^="urn:li:comment:"]',
  text: '.update-components-text, .feed-shared-update-v2__description, .feed-shared-text',
  /** The author's links: the actor block (avatar, name). The header above it ("X reposted this") links
   * someone else. */
  actorLink: '[class*="actor__meta-link"][href], [class*="actor__image"][href], [class*="actor__container"] a[href]',
  /** Post media on LinkedIn's media CDN; video posters; not avatars or logos. */
  media: 'img[src*="media.licdn.com"], video[poster*="media.licdn.com"]',
};

/** Avatars and logos share the media CDN with post images; their path names them. */
const NOT_POST_MEDIA = /\/(profile-|company-logo|group-logo|school-logo)/;

/** "https://www.linkedin.com/in/jane-doe?miniProfileUrn=…" → "in/jane-doe" (also company/…). */
function profileOf(href: string | null | undefined): string | undefined {
  return /\/((?:in|company|school|showcase)\/[^/?#]+)/.exec(href ?? "")?.[1];
}

/** LinkedIn ids carry their creation time: the top 41 bits of the number are milliseconds since 1970. */
export function linkedinTime(urn: string): string | undefined {
  const id = /:(\d{15,})$/.exec(urn)?.[1];
  if (!id) return undefined;
  const ms = Number(BigInt(id) >> 22n);
  return ms > Date.UTC(2003, 0) && ms < Date.now() + 86_400_000 ? new Date(ms).toISOString() : undefined;
}

export const linkedinAdapter: SiteAdapter = {
  id: "linkedin",
  hosts: ["www.linkedin.com", "linkedin.com"],
  post: LINKEDIN_SELECTORS.post,
  extract(el) {
    const S = LINKEDIN_SELECTORS;
    const own = (n: Element): boolean => {
      const c = n.closest(S.comment);
      return !c || !el.contains(c);
    };
    const text = textOf([...el.querySelectorAll(S.text)].find(own));
    const images = imgSrcs(el, S.media, 4, (m, src) => own(m) && !NOT_POST_MEDIA.test(src));
    if (!text && !images.length) return null; // still loading
    const urn = el.getAttribute("data-urn") ?? "";
    const author = profileOf([...el.querySelectorAll(S.actorLink)].find(own)?.getAttribute("href"));
    return {
      text,
      author,
      images,
      url: absUrl(`/feed/update/${urn}/`),
      created_at: linkedinTime(urn),
    };
  },
};
