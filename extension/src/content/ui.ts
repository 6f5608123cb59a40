// What the reader sees on a post, laid over it without changing its layout: a small menu on every post
// ("Why?", "Hide more like this"), a one-line stub in place of a hidden post, a card over a blurred post with
// the reason on top, a small badge on a labelled one. Rendered in a *closed* shadow root that only this
// module holds (a page script cannot read the reader's rules or reasons), and every button acts only on
// trusted events (a page script cannot click "This was fine" for the reader). Menus and the "Why?" panel
// are popovers in the browser's top layer, so they are never clipped by the site's boxes.
import type { FeedbackKind, Verdict } from "../shared/protocol";
import { verdictSentence } from "./reason";
import { UI_CSS, UI_TAG } from "./styles";

export interface UiHandlers {
  reveal(): void;
  rehide(): void;
  feedback(kind: FeedbackKind): Promise<boolean>;
}

/** One post's UI. The shadow root is closed: this object is the only way to it. */
interface PostUi {
  host: HTMLElement;
  root: ShadowRoot;
  style: HTMLStyleElement;
  wrap: HTMLElement | null;
  whyOpen: boolean;
}

const uis = new WeakMap<Element, PostUi>();

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

/** A button that acts only when the reader clicked it (or pressed Enter/Space on it): events a page script
 * dispatches (`isTrusted: false`) are swallowed. The click never reaches the site's own handlers (X opens
 * the tweet on a click anywhere in it). */
function button(label: string, fw: string, onClick: () => void, cls = ""): HTMLButtonElement {
  const b = h("button", { type: "button", "data-fw": fw, ...(cls ? { class: cls } : {}) }, label);
  b.addEventListener("click", (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    if (!ev.isTrusted) return;
    onClick();
  });
  return b;
}

// ---- theme -----------------------------------------------------------------------------------------------

/** The wrappers of the UIs on the page, to switch them when the page's theme changes. */
const wrappers = new Set<HTMLElement>();
let themeDark: boolean | null = null;
let themeCheckQueued = false;
/** The post of the newest UI: the queued check measures the page around it. */
let themeProbe: Element | null = null;

/** Whether the page around `el` is dark: the first opaque background from `el` up (X, Reddit and YouTube
 * switch themes with their own setting, not the system's), else the system's colour scheme. */
function measureDark(el: Element): boolean {
  let e: Element | null = el;
  for (; e; e = e.parentElement) {
    const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(getComputedStyle(e).backgroundColor);
    if (m && (m[4] === undefined || Number(m[4]) >= 0.5)) {
      const [r, g, b] = [m[1], m[2], m[3]].map((x) => Number(x) / 255);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.4;
    }
  }
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

/** The queued theme check: measure around the newest UI's post (or, if it left the page, any UI still on
 * it) and switch every UI when the theme changed. */
function checkTheme(): void {
  themeCheckQueued = false;
  let el = themeProbe;
  themeProbe = null;
  if (!el?.isConnected) {
    el = null;
    for (const w of wrappers) {
      const host = (w.getRootNode() as ShadowRoot).host;
      if (host?.isConnected) {
        el = host;
        break;
      }
    }
    if (!el) return;
  }
  const dark = measureDark(el);
  if (dark === themeDark) return;
  themeDark = dark;
  for (const w of wrappers) {
    if (!w.isConnected) wrappers.delete(w);
    else w.className = `fw ${dark ? "dark" : "light"}`;
  }
}

/** The page's theme for a new UI. Measured once synchronously; after that, looked at again when the page is
 * idle (reading computed styles in the middle of rendering would force a style pass on every verdict), at
 * most once a second, and every UI on the page follows a change. A page that is never idle (a busy or
 * loaded machine) still gets the check, a second later at the latest. */
function themeFor(el: Element): "dark" | "light" {
  if (themeDark === null) themeDark = measureDark(el);
  else {
    themeProbe = el;
    if (!themeCheckQueued) {
      themeCheckQueued = true;
      const idle = globalThis.requestIdleCallback ?? ((f: () => void) => setTimeout(f, 50));
      setTimeout(() => idle(checkTheme, { timeout: 1000 }), 1000);
    }
  }
  return themeDark ? "dark" : "light";
}

// ---- popovers --------------------------------------------------------------------------------------------

/** Keep an open popover next to its anchor: below it (above when there is no room), starting at its left
 * edge (ending at its right edge when there is no room), always inside the window. */
function place(pop: HTMLElement, anchor: Element): void {
  const r = anchor.getBoundingClientRect();
  const w = pop.offsetWidth;
  const ht = pop.offsetHeight;
  let top = r.bottom + 4;
  if (top + ht > innerHeight - 4 && r.top - ht - 4 >= 4) top = r.top - ht - 4;
  const left = Math.max(4, r.left + w <= innerWidth - 4 ? r.left : Math.min(r.right - w, innerWidth - w - 4));
  pop.style.top = `${Math.round(top)}px`;
  pop.style.left = `${Math.round(left)}px`;
}

/** Open `pop` by `anchor` and follow the anchor while the page scrolls, until it closes. */
function openBy(pop: HTMLElement, anchor: () => Element | null): void {
  if (!pop.isConnected || pop.matches(":popover-open")) return;
  try {
    pop.showPopover();
  } catch {
    return; // not in a document any more
  }
  const follow = () => {
    const a = anchor();
    if (a?.isConnected) place(pop, a);
  };
  follow();
  window.addEventListener("scroll", follow, { capture: true, passive: true });
  window.addEventListener("resize", follow, { passive: true });
  pop.addEventListener(
    "toggle",
    function closed(ev) {
      if ((ev as ToggleEvent).newState !== "closed") return;
      window.removeEventListener("scroll", follow, { capture: true });
      window.removeEventListener("resize", follow);
      pop.removeEventListener("toggle", closed);
    },
  );
}

/** When each popover last closed: a click on the button that opened it first closes it by "light dismiss"
 * (the press is outside the popover), and that same click must not open it again. */
const closedAt = new WeakMap<HTMLElement, number>();

/** A popover element (light dismiss: a press outside or Escape closes it). */
function popover(cls: string, fw: string): HTMLElement {
  const pop = h("div", { popover: "auto", class: `pop ${cls}`, "data-fw": fw });
  // Fired synchronously as it closes, so the click that closed it can tell.
  pop.addEventListener("beforetoggle", (ev) => {
    if ((ev as ToggleEvent).newState === "closed") closedAt.set(pop, performance.now());
  });
  return pop;
}

/** The button that opens `pop` was clicked: close it if it is open (or was closed by this very press). */
function toggleFromButton(pop: HTMLElement, open: () => void): void {
  if (pop.matches(":popover-open")) pop.hidePopover();
  else if (performance.now() - (closedAt.get(pop) ?? -Infinity) > 300) open();
}

function closePopover(pop: HTMLElement): void {
  if (pop.matches(":popover-open")) pop.hidePopover();
}

// ---- panels ----------------------------------------------------------------------------------------------

/** Feedback buttons with a status line. `filtered`: the post was filtered, so "This was fine" applies. */
function feedbackRow(filtered: boolean, handlers: UiHandlers): HTMLElement {
  const status = h("span", { "data-fw": "feedback-status", role: "status" });
  const send = async (kind: FeedbackKind) => {
    status.className = "";
    status.textContent = "Saving…";
    const ok = await handlers.feedback(kind);
    status.className = ok ? "thanks" : "error";
    status.textContent = ok
      ? kind === "was_fine"
        ? "Thanks — similar posts will be filtered less."
        : "Thanks — similar posts will be filtered more."
      : "Could not save the feedback (is the host running?).";
  };
  return h(
    "div",
    { class: "fb" },
    ...(filtered ? [button("This was fine", "feedback-fine", () => void send("was_fine"))] : []),
    button("Hide more like this", "feedback-more", () => void send("more_like_this")),
    status,
  );
}

/** The "Why?" panel: the sentence, then the numbers (rule, the host's reason, every category's score, the
 * rules that fired, techniques, text read from images), then feedback. */
function whyContent(v: Verdict, handlers: UiHandlers): HTMLElement[] {
  const rows = Object.entries(v.scores ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([cat, s]) => {
      const meter = h("span", { class: "meter" }, h("i", { style: `width:${Math.round(s * 100)}%` }));
      return h("tr", { "data-category": cat }, h("td", {}, cat), h("td", {}, meter), h("td", {}, s.toFixed(2)));
    });
  const subs = v.sub_labels
    ? Object.entries(v.sub_labels).flatMap(([cat, m]) =>
        Object.entries(m)
          .filter(([, s]) => s >= 0.5)
          .map(([k, s]) => `${cat}: ${k} ${s.toFixed(2)}`),
      )
    : [];
  const imageTexts = (v.images ?? []).map((i) => i.text?.trim()).filter((t): t is string => !!t);
  const fired = (v.fired ?? []).map((f) => `${f.rule} (${f.action}, ${f.score.toFixed(2)} ≥ ${f.threshold.toFixed(2)})`);
  const filtered = v.action === "hide" || v.action === "blur" || v.action === "label";
  return [
    h("div", { class: "sentence", "data-fw": "why-sentence" }, verdictSentence(v)),
    h("div", { "data-fw": "why-rule" }, h("b", {}, "Rule: "), v.rule ?? "none"),
    h("div", { class: "muted", "data-fw": "why-reason" }, v.reason ?? ""),
    h("table", {}, ...rows),
    ...(fired.length ? [h("div", {}, h("b", {}, "Fired: "), fired.join("; "))] : []),
    ...(subs.length ? [h("div", {}, h("b", {}, "Techniques: "), subs.join(", "))] : []),
    ...(imageTexts.length ? [h("div", { "data-fw": "why-image-text" }, h("b", {}, "Text in the image: "), imageTexts.map((t) => `“${t}”`).join(" · "))] : []),
    ...(v.images_pending ? [h("div", { "data-fw": "why-images-pending" }, "Some image checks are still running; this verdict is from the text and the checks done so far.")] : []),
    feedbackRow(filtered, handlers),
  ];
}

// ---- the host element ------------------------------------------------------------------------------------

function ensureUi(post: Element): PostUi | null {
  let ui = uis.get(post);
  if (!ui) {
    const host = document.createElement(UI_TAG);
    let root: ShadowRoot;
    try {
      root = host.attachShadow({ mode: "closed" });
    } catch {
      return null; // the page defined an element of that name that already has a shadow root: no UI
    }
    ui = { host, root, style: h("style", {}, UI_CSS), wrap: null, whyOpen: false };
    uis.set(post, ui);
  }
  if (ui.host.parentNode !== post) post.append(ui.host);
  return ui;
}

/** Whether the reader has the "why" panel of this post open. */
export function isWhyOpen(post: Element): boolean {
  return !!uis.get(post)?.whyOpen;
}

export function removeUi(post: Element): void {
  const ui = uis.get(post);
  if (!ui) return;
  if (ui.wrap) wrappers.delete(ui.wrap);
  ui.root.replaceChildren();
  ui.host.remove();
  uis.delete(post);
}

/** Render the UI for a verdict; `revealed` is the reader having clicked "Show"; `whyOpen` opens the "why"
 * panel (kept open when an update replaces the verdict). */
export function renderUi(post: Element, v: Verdict, revealed: boolean, handlers: UiHandlers, whyOpen = false): void {
  const ui = ensureUi(post);
  if (!ui) return;
  const action = v.action;
  const filtered = action === "hide" || action === "blur" || action === "label";
  const sentence = filtered ? verdictSentence(v) : "";

  // The "Why?" panel and the menu are made when first opened (most posts never open them).
  let why: HTMLElement | null = null;
  const whyPanel = (): HTMLElement => {
    if (why) return why;
    const pop = popover("why", "why-panel");
    pop.addEventListener("toggle", (ev) => {
      if (ui.root.contains(pop)) ui.whyOpen = (ev as ToggleEvent).newState === "open";
    });
    wrap.append(pop);
    return (why = pop);
  };
  let whyAnchor: Element | null = null;
  const openWhy = (anchor: Element) => {
    whyAnchor = anchor;
    ui.whyOpen = true;
    const pop = whyPanel();
    pop.replaceChildren(...whyContent(v, handlers));
    openBy(pop, () => (whyAnchor?.isConnected ? whyAnchor : ui.host));
  };
  // Filtered posts show "Why?" beside their reason (shown ones have it in the menu).
  let whyBtn: HTMLButtonElement | null = null;
  const whyButton = (): HTMLButtonElement => {
    const b = button("Why?", "why", () => toggleFromButton(whyPanel(), () => openWhy(b)), "link");
    return (whyBtn = b);
  };

  // The small menu every post has.
  let menu: HTMLElement | null = null;
  const menuPopover = (): HTMLElement => {
    if (!menu) wrap.append((menu = popover("menu", "menu")));
    return menu;
  };
  const openMenu = () => {
    const pop = menuPopover();
    pop.replaceChildren(
      button("Why?", "menu-why", () => {
        closePopover(pop);
        openWhy(menuBtn);
      }),
      feedbackRow(filtered, handlers),
    );
    openBy(pop, () => menuBtn);
  };
  const menuBtn = button("⋯", "menu-button", () => toggleFromButton(menuPopover(), openMenu), "menu-btn");
  menuBtn.title = "Feedwarden";
  menuBtn.setAttribute("aria-label", "Feedwarden: why this post is shown like this, and feedback");

  let body: HTMLElement;
  if (!filtered) {
    body = h("div", { class: "corner", "data-fw": "post-menu" }, menuBtn);
  } else if (revealed) {
    body = h(
      "div",
      { class: "corner pill", "data-fw": "revealed-bar" },
      h("span", { class: "muted" }, "Shown by you"),
      button(action === "hide" ? "Hide again" : "Blur again", "rehide", () => handlers.rehide(), "link"),
      whyButton(),
      menuBtn,
    );
  } else if (action === "label") {
    body = h(
      "div",
      { class: "corner pill badge", "data-fw": "badge", title: sentence },
      h("span", { class: "flag" }, `⚑ ${v.rule ?? "label"}`),
      whyButton(),
      menuBtn,
    );
  } else if (action === "hide") {
    body = h(
      "div",
      { class: "stub", "data-fw": "stub" },
      // One line: a long rule description is cut with "…" (the whole sentence is its tooltip and in Why?).
      h("span", { class: "reason", "data-fw": "stub-rule", title: sentence }, sentence),
      button("Show", "reveal", () => handlers.reveal()),
      whyButton(),
      menuBtn,
    );
  } else {
    // blur: a veil over the whole post with the reason on top
    const card = h(
      "div",
      { class: "card", "data-fw": "blur-card" },
      h("div", { class: "reason", "data-fw": "blur-reason" }, sentence),
      h("div", { class: "row" }, button("Show", "reveal", () => handlers.reveal()), whyButton(), menuBtn),
    );
    body = h("div", { class: "veil", "data-fw": "overlay" }, card);
    // A click on the veil is not a click on the post (X would open the tweet).
    body.addEventListener("click", (ev) => ev.stopPropagation());
  }
  const wrap = h("div", { class: `fw ${themeFor(post)}` }, body);
  // Keys pressed on the UI's buttons are the UI's (X would open the tweet on Enter, or like it on "l").
  wrap.addEventListener("keydown", (ev) => ev.stopPropagation());
  if (ui.wrap) wrappers.delete(ui.wrap);
  ui.wrap = wrap;
  wrappers.add(wrap);
  ui.root.replaceChildren(ui.style, wrap);
  ui.whyOpen = false;
  if (whyOpen) openWhy(whyBtn ?? menuBtn);
}
