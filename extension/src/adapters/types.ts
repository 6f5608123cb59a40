// A site adapter knows only where posts are in a site's DOM and how to read them. Observing the page,
// batching, talking to the host and applying verdicts is common code (src/content/).
import type { SiteId } from "../shared/settings";

export interface ExtractedPost {
  text: string;
  quoted_text?: string;
  author?: string;
  author_followed?: boolean;
  images?: string[];
  url?: string;
  created_at?: string;
}

export interface SiteAdapter {
  id: SiteId;
  /** Host names this adapter handles (exact, or any subdomain of an entry starting with "."). */
  hosts: string[];
  /** CSS selector of one post's container (a list is fine). Used in CSS too, so keep it plain. */
  post: string;
  /** Children of a container that must stay visible when it is hidden or blurred (e.g. nested replies). */
  keepVisible?: string;
  /** Read a container; null means "not a post" (an ad slot, a placeholder still loading). */
  extract(el: Element): ExtractedPost | null;
}

// Small helpers shared by the adapters' extractors.
// Text of an element without layout: `innerText` would force a reflow per post (main-thread cost) and
// returns nothing for content hidden by the pending look. Emoji images count by their alt text; <br> and
// paragraphs become line breaks.
const BLOCK = new Set(["P", "DIV", "LI", "BR", "BLOCKQUOTE"]);
export function textOf(el: Element | null | undefined): string {
  if (!el) return "";
  let out = "";
  const walk = (n: Node): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 3) out += c.nodeValue;
      else if (c.nodeType === 1) {
        const e = c as Element;
        const tag = e.tagName;
        if (tag === "IMG") out += e.getAttribute("alt") ?? "";
        else if (tag === "BR") out += "\n";
        else if (tag !== "SCRIPT" && tag !== "STYLE" && tag !== "FEEDWARDEN-UI") {
          walk(e);
          if (BLOCK.has(tag)) out += "\n";
        }
      }
    }
  };
  walk(el);
  return out.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
}

/** Addresses of the images (or videos' poster images) under `root` that match `selector` and `keep`, in
 * page order, each once, at most `limit`. */
export function imgSrcs(root: Element, selector: string, limit = 4, keep: (el: Element, src: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const el of root.querySelectorAll(selector)) {
    const src = el.localName === "video" ? (el as HTMLVideoElement).poster : (el as HTMLImageElement).currentSrc || (el as HTMLImageElement).src;
    if (src && /^https?:/.test(src) && !out.includes(src) && keep(el, src)) out.push(src);
    if (out.length >= limit) break;
  }
  return out;
}

export function absUrl(href: string | null | undefined): string | undefined {
  if (!href) return undefined;
  try {
    return new URL(href, location.href).href;
  } catch {
    return undefined;
  }
}
