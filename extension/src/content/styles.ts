// Page-level CSS, generated from the adapter's selectors. Inserted synchronously at document_start so a
// post is never painted before it is judged (no flash of unfiltered content).
import type { SiteAdapter } from "../adapters/types";
import type { PendingStyle } from "../shared/settings";

export const UI_TAG = "feedwarden-ui";
export const STATE_ATTR = "data-fw-state";

const PENDING_LOOK: Record<PendingStyle, string> = {
  hidden: "visibility: hidden !important;",
  blurred: "filter: blur(8px) grayscale(1) !important; opacity: 0.5 !important; pointer-events: none !important;",
  dimmed: "opacity: 0.15 !important; pointer-events: none !important;",
};

export function pageCss(a: SiteAdapter, pending: PendingStyle): string {
  const post = `:is(${a.post})`;
  const content = `:not(${UI_TAG})${a.keepVisible ? `:not(${a.keepVisible})` : ""}`;
  return `
${post}:not([${STATE_ATTR}]) > ${content}, ${post}[${STATE_ATTR}="pending"] > ${content} { ${PENDING_LOOK[pending]} }
${post}[${STATE_ATTR}="hide"]:not([data-fw-revealed]) > ${content} { display: none !important; }
${post}[${STATE_ATTR}="blur"]:not([data-fw-revealed]) > ${content} {
  filter: blur(16px) !important; pointer-events: none !important; user-select: none !important; }
${UI_TAG} { all: initial; display: block; align-self: stretch; width: 100%; box-sizing: border-box; }
`;
}

/** CSS inside each post's shadow root (isolated from the site's styles). */
export const UI_CSS = `
:host { all: initial; display: block; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
.bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; padding: 6px 10px; margin: 4px 0;
  border: 1px solid #d0d7de; border-radius: 8px; background: #f6f8fa; }
.bar.hide { border-style: dashed; }
.overlay { display: flex; justify-content: center; padding: 6px 0; }
.card { width: 100%; box-sizing: border-box; padding: 8px 12px; border-radius: 10px; background: #fff;
  border: 1px solid #d0d7de; box-shadow: 0 1px 6px rgba(0,0,0,0.15); }
.badge { display: inline-flex; gap: 6px; align-items: center; padding: 1px 8px; margin: 4px 0; border-radius: 999px;
  background: #fff4d6; border: 1px solid #e3b341; font-size: 12px; }
.logo { font-weight: 600; }
.reason { color: #57606a; }
button { font: inherit; cursor: pointer; border: 1px solid #8c959f; border-radius: 6px; background: #fff;
  padding: 2px 8px; color: #1f2328; }
button.link { border: none; background: none; color: #0969da; padding: 0 2px; text-decoration: underline; }
.why { margin: 6px 0; padding: 8px 10px; border-radius: 8px; background: #fff; border: 1px solid #d0d7de;
  text-align: left; position: relative; z-index: 6; }
.why table { border-collapse: collapse; margin: 4px 0; }
.why td { padding: 1px 6px; }
.meter { display: inline-block; height: 6px; background: #d0d7de; width: 80px; border-radius: 3px; overflow: hidden; }
.meter > i { display: block; height: 100%; background: #cf222e; }
.fb { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
.thanks { color: #1a7f37; }
`;
