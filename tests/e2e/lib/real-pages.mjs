// The real rendered pages of the sites beside x.com (../shared/data/feeds/<site>-html, saved from the
// browser; MIT, see the LICENSE file beside each): where the local server serves each one, and whether it is
// here. Tests that load them skip with this reason when the shared data is absent.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SHARED_DATA } from "./env.mjs";

export const FEEDS = join(SHARED_DATA, "feeds");

/** Site → the page's address (served by lib/server.mjs from 127.0.0.1) and its file under FEEDS. */
export const REAL_PAGES = {
  bluesky: { url: "https://bsky.app/", file: join(FEEDS, "bluesky-html/bsky-feed.html") },
  youtube: { url: "https://www.youtube.com/", file: join(FEEDS, "youtube-html/youtube-home.html") },
  threads: { url: "https://www.threads.net/", file: join(FEEDS, "threads-html/threads-home.html") },
  linkedin: { url: "https://www.linkedin.com/feed/", file: join(FEEDS, "linkedin-html/linkedin-feed.html") },
};

/** The real page served at https://<host><pathname>, if any. */
export function realPageFile(host, pathname) {
  for (const p of Object.values(REAL_PAGES)) {
    const u = new URL(p.url);
    if (u.hostname === host && u.pathname === pathname) return p.file;
  }
  return undefined;
}

/** For node:test's `skip`: false when every real page is here, else why not. */
export function realPagesReason() {
  const gone = Object.entries(REAL_PAGES).filter(([, p]) => !existsSync(p.file));
  return gone.length ? `the saved ${gone.map(([s]) => s).join(", ")} pages are not in ${FEEDS} (shared data absent; set FEEDWARDEN_SHARED_DATA)` : false;
}

/** Insert copies of a real post of the page right after it, as the site's infinite scroll would add new posts:
 * each copy keeps the real markup with `text` in place of the source post's text (the deepest element whose
 * text contains `source`) and carries `data-test-id`. `post` is the adapter's post selector. */
export function insertCopies(page, { post, source, copies }) {
  return page.evaluate(
    ({ post, source, copies }) => {
      const original = [...document.querySelectorAll(post)].find((p) => p.textContent.includes(source));
      if (!original) throw new Error(`no post with "${source}"`);
      let at = original;
      for (const { id, text } of copies) {
        const c = original.cloneNode(true);
        for (const e of c.querySelectorAll("feedwarden-ui")) e.remove();
        for (const e of [c, ...c.querySelectorAll("*")]) for (const a of [...e.attributes]) if (a.name.startsWith("data-fw")) e.removeAttribute(a.name);
        const holder = [...c.querySelectorAll("*")].filter((e) => e.textContent.includes(source)).pop();
        holder.textContent = text;
        c.setAttribute("data-test-id", id);
        at.after(c);
        at = c;
      }
    },
    { post, source, copies },
  );
}

/** For each snippet, the states (data-fw-state) of the posts matching `post` whose text contains it. */
export function statesOf(page, post, snippets) {
  return page.evaluate(
    ({ post, snippets }) => {
      const posts = [...document.querySelectorAll(post)];
      return Object.fromEntries(snippets.map((s) => [s, posts.filter((p) => p.textContent.includes(s)).map((p) => p.getAttribute("data-fw-state"))]));
    },
    { post, snippets },
  );
}

/** The real pages for the layout checks (page-ui.test.mjs, firefox.test.mjs): the adapter's post selector on
 * each; `anyState` because the real posts are judged as the real model sees them (none need be blurred).
 * Not Bluesky and LinkedIn (a known limit, docs/extension.md "Layout"): each has an absolutely positioned
 * element inside a post whose containing block, without the extension, is far outside the post (Bluesky's
 * saved page lost React Native Web's run-time stylesheet, which makes every View `position: relative`, so
 * an overlay resolves against the whole 45,000 px feed; on LinkedIn's saved page one sits 2,256 px above
 * the post). The `position: relative` the extension gives the post makes the post that element's
 * containing block, which moves it. */
export const REAL_PAGE_LAYOUT_SITES = [
  { site: "youtube", url: REAL_PAGES.youtube.url, sel: "ytd-rich-item-renderer", anyState: true },
  { site: "threads", url: REAL_PAGES.threads.url, sel: '[data-pressable-container="true"]:not([data-pressable-container="true"] *)', anyState: true },
];
