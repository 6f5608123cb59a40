// Page-level CSS, generated from the adapter's selectors. Inserted synchronously at document_start so a
// post is never painted before it is judged (no flash of unfiltered content). Also the CSS inside each
// post's shadow root.
import type { SiteAdapter } from "../adapters/types";
import type { PendingStyle } from "../shared/settings";

export const UI_TAG = "feedwarden-ui";
export const STATE_ATTR = "data-fw-state";

const PENDING_LOOK: Record<PendingStyle, string> = {
  hidden: "visibility: hidden !important;",
  blurred: "filter: blur(8px) grayscale(1) !important; opacity: 0.5 !important; pointer-events: none !important;",
  dimmed: "opacity: 0.15 !important; pointer-events: none !important;",
};

/** The page's rules. The UI host is taken out of the post's flow (absolutely positioned: it never becomes
 * a column of X's row-flex tweet), except as the stub of a hidden post, whose own content is gone. Only
 * layout is set here: a page-level rule beats the shadow root's `:host`, so font and colour stay inside. */
export function pageCss(a: SiteAdapter, pending: PendingStyle): string {
  const post = `:is(${a.post})`;
  const content = `:not(${UI_TAG})${a.keepVisible ? `:not(${a.keepVisible})` : ""}`;
  const hidden = `${post}[${STATE_ATTR}="hide"]:not([data-fw-revealed])`;
  const blurred = `${post}[${STATE_ATTR}="blur"]:not([data-fw-revealed])`;
  return `
${post}:not([${STATE_ATTR}]) > ${content}, ${post}[${STATE_ATTR}="pending"] > ${content} { ${PENDING_LOOK[pending]} }
${hidden} > ${content} { display: none !important; }
${blurred} > ${content} { filter: blur(16px) !important; pointer-events: none !important; user-select: none !important; }
:where(:is(${a.post})[${STATE_ATTR}]) { position: relative; }
${post} > ${UI_TAG} { position: absolute !important; inset: 0 0 auto auto !important; z-index: 1 !important;
  display: block !important; margin: 0 !important; padding: 0 !important; border: 0 !important;
  width: auto !important; height: auto !important; max-width: 100% !important; pointer-events: none !important;
  transform: none !important; filter: none !important; opacity: 1 !important; visibility: visible !important; }
${blurred} > ${UI_TAG} { inset: 0 !important; }
${hidden} > ${UI_TAG} { position: static !important; width: 100% !important; flex: 1 1 100% !important; pointer-events: auto !important; }
`;
}

/** CSS inside each post's shadow root (isolated from the site's styles): the system font at the page's
 * scale (the post's own font size, kept between 12 and 16 px), light or dark like the page. */
export const UI_CSS = `
:host { all: initial; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: clamp(12px, 0.9em, 16px); line-height: 1.35; }
.fw { --bg: #ffffff; --fg: #0f1419; --muted: #536471; --line: #cfd9de; --chip: #f7f9f9; --link: #1d6fc2;
  --veil: rgba(255,255,255,0.35); --bar: #cf222e; --ok: #1a7f37; --bad: #cf222e; color: var(--fg); }
.fw.dark { --bg: #16181c; --fg: #e7e9ea; --muted: #8b98a5; --line: #38444d; --chip: #202327; --link: #6cb6ff;
  --veil: rgba(0,0,0,0.35); --bar: #f85149; --ok: #3fb950; --bad: #f85149; }
button { font: inherit; cursor: pointer; border: 1px solid var(--line); border-radius: 999px; background: var(--bg);
  color: var(--fg); padding: 1px 10px; pointer-events: auto; }
button:hover { background: var(--chip); }
button:focus-visible { outline: 2px solid var(--link); outline-offset: 1px; }
button.link { border: none; background: none; color: var(--link); padding: 0 3px; }
button.link:hover { text-decoration: underline; }
.menu-btn { border: none; background: none; padding: 0 5px; line-height: 1.1; color: var(--muted); opacity: 0.55;
  border-radius: 6px; font-size: 1.1em; }
.menu-btn:hover, .menu-btn:focus-visible { opacity: 1; background: var(--chip); }
.muted, .reason { color: var(--muted); }
.corner { display: flex; align-items: center; gap: 2px; justify-content: flex-end; pointer-events: auto;
  margin: 2px 2px 0 0; }
.pill { padding: 0 2px 0 8px; border: 1px solid var(--line); border-radius: 999px; background: var(--bg);
  font-size: 0.9em; white-space: nowrap; box-shadow: 0 1px 3px rgba(0,0,0,0.12); }
.badge .flag { font-weight: 600; }
.stub { display: flex; gap: 8px; align-items: center; flex-wrap: nowrap; padding: 6px 10px; margin: 4px 0;
  border: 1px dashed var(--line); border-radius: 10px; background: var(--chip); color: var(--fg); }
.stub .reason { flex: 1 1 0; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.veil { position: absolute; inset: 0; background: var(--veil); pointer-events: auto; display: flex;
  justify-content: center; align-items: flex-start; padding: 10px; box-sizing: border-box; }
.card { max-width: min(100%, 34em); box-sizing: border-box; padding: 8px 12px; border-radius: 12px;
  background: var(--bg); border: 1px solid var(--line); box-shadow: 0 2px 10px rgba(0,0,0,0.18); }
.card .reason { color: var(--fg); }
.row { display: flex; gap: 6px; align-items: center; margin-top: 6px; flex-wrap: wrap; }
.pop { position: fixed; inset: auto; margin: 0; box-sizing: border-box; max-width: min(30em, calc(100vw - 8px));
  max-height: calc(100vh - 8px); overflow: auto; padding: 8px 10px; border-radius: 10px; background: var(--bg);
  color: var(--fg); border: 1px solid var(--line); box-shadow: 0 4px 18px rgba(0,0,0,0.25); text-align: left;
  font: inherit; }
.pop:not(:popover-open) { display: none; }
.menu:popover-open { padding: 6px; display: flex; flex-direction: column; gap: 4px; }
.menu > button { text-align: left; border: none; border-radius: 6px; }
.menu .fb { margin-top: 0; flex-direction: column; align-items: stretch; }
.menu .fb button { text-align: left; border: none; border-radius: 6px; }
.why .sentence { font-weight: 600; margin-bottom: 4px; }
.why table { border-collapse: collapse; margin: 4px 0; }
.why td { padding: 1px 6px; }
.meter { display: inline-block; height: 6px; background: var(--line); width: 80px; border-radius: 3px; overflow: hidden; }
.meter > i { display: block; height: 100%; background: var(--bar); }
.fb { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; align-items: center; }
.thanks { color: var(--ok); }
.error { color: var(--bad); }
`;
