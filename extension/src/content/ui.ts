// What the reader sees on a filtered post: a one-line stub (hide), an overlay on the blurred post (blur), a
// small badge (label); each with "Why?" (rule, scores, explanation) and feedback buttons. Rendered in an
// open shadow root so the site's CSS cannot break it and ours cannot break the site.
import type { FeedbackKind, Verdict } from "../shared/protocol";
import { UI_CSS, UI_TAG } from "./styles";

export interface UiHandlers {
  reveal(): void;
  rehide(): void;
  feedback(kind: FeedbackKind): Promise<boolean>;
}

const ACTION_WORD: Record<string, string> = { hide: "Hidden", blur: "Blurred", label: "Labelled" };

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

function button(label: string, part: string, onClick: (ev: Event) => void, cls = ""): HTMLButtonElement {
  const b = h("button", { type: "button", part, "data-fw": part, ...(cls ? { class: cls } : {}) }, label);
  b.addEventListener("click", (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    onClick(ev);
  });
  return b;
}

function whyPanel(v: Verdict, handlers: UiHandlers): HTMLElement {
  const rows = Object.entries(v.scores)
    .sort((a, b) => b[1] - a[1])
    .map(([cat, s]) => {
      const meter = h("span", { class: "meter" }, h("i", { style: `width:${Math.round(s * 100)}%` }));
      return h("tr", { "data-category": cat }, h("td", {}, cat), h("td", {}, meter), h("td", {}, `${Math.round(s * 100)}%`));
    });
  const subs = v.sub_labels
    ? Object.entries(v.sub_labels).flatMap(([cat, m]) =>
        Object.entries(m)
          .filter(([, s]) => s >= 0.5)
          .map(([k, s]) => `${cat}: ${k} ${Math.round(s * 100)}%`),
      )
    : [];
  const imageTexts = (v.images ?? []).map((i) => i.text?.trim()).filter((t): t is string => !!t);
  const fired = (v.fired ?? []).map((f) => `${f.rule} (${f.action}, ${f.score.toFixed(2)} ≥ ${f.threshold.toFixed(2)})`);
  const status = h("span", { "data-fw": "feedback-status" });
  const send = async (kind: FeedbackKind) => {
    status.textContent = "Saving…";
    const ok = await handlers.feedback(kind);
    status.className = ok ? "thanks" : "";
    status.textContent = ok
      ? kind === "was_fine"
        ? "Thanks — similar posts will be filtered less."
        : "Thanks — similar posts will be filtered more."
      : "Could not save the feedback (is the host running?).";
  };
  return h(
    "div",
    { class: "why", "data-fw": "why-panel" },
    h("div", { "data-fw": "why-rule" }, h("b", {}, "Rule: "), v.rule ?? "none"),
    h("div", { "data-fw": "why-reason" }, v.reason),
    h("table", {}, ...rows),
    ...(fired.length ? [h("div", {}, h("b", {}, "Fired: "), fired.join("; "))] : []),
    ...(subs.length ? [h("div", {}, h("b", {}, "Techniques: "), subs.join(", "))] : []),
    ...(imageTexts.length ? [h("div", { "data-fw": "why-image-text" }, h("b", {}, "Text in the image: "), imageTexts.map((t) => `“${t}”`).join(" · "))] : []),
    ...(v.images_pending ? [h("div", { "data-fw": "why-images-pending" }, "The images are still being checked; this verdict is from the text.")] : []),
    h(
      "div",
      { class: "fb" },
      button("This was fine", "feedback-fine", () => void send("was_fine")),
      button("Hide more like this", "feedback-more", () => void send("more_like_this")),
      status,
    ),
  );
}

export function ensureUiHost(post: Element): HTMLElement {
  let host = post.querySelector<HTMLElement>(`:scope > ${UI_TAG}`);
  if (!host) {
    host = document.createElement(UI_TAG);
    host.attachShadow({ mode: "open" });
    post.prepend(host);
  }
  return host;
}

/** Whether the reader has the "why" panel of this post open. */
export function isWhyOpen(post: Element): boolean {
  return !!post.querySelector(`:scope > ${UI_TAG}`)?.shadowRoot?.querySelector('[data-fw="why-panel"]');
}

export function removeUi(post: Element): void {
  post.querySelector(`:scope > ${UI_TAG}`)?.remove();
}

/** Render the UI for a verdict; `revealed` is the reader having clicked "Show"; `whyOpen` opens the "why"
 * panel (kept open when an update replaces the verdict). */
export function renderUi(post: Element, v: Verdict, revealed: boolean, handlers: UiHandlers, whyOpen = false): void {
  const host = ensureUiHost(post);
  const root = host.shadowRoot!;
  root.replaceChildren(h("style", {}, UI_CSS));
  const action = v.action;
  host.setAttribute("data-action", action);
  const why = whyPanel(v, handlers);
  // The "why" panel opens in the flow of the post (on a blurred post: above the blurred content, so the
  // post grows instead of clipping the panel).
  const toggleWhy = () => {
    whyOpen = !whyOpen;
    if (!whyOpen) why.remove();
    else container.after(why);
  };
  const whyBtn = button("Why?", "why", toggleWhy, "link");
  let container: HTMLElement;
  const label = `${ACTION_WORD[action] ?? "Filtered"} by Feedwarden`;
  const ruleText = v.rule ? ` · rule "${v.rule}"` : "";
  if (action === "label") {
    container = h("div", { class: "badge", "data-fw": "badge", title: v.reason }, h("span", { class: "logo" }, `⚑ ${v.rule ?? "label"}`), whyBtn);
  } else if (revealed) {
    container = h(
      "div",
      { class: "bar", "data-fw": "revealed-bar" },
      h("span", { class: "logo" }, `Shown by you`),
      h("span", { class: "reason" }, `${label}${ruleText}`),
      button(action === "hide" ? "Hide again" : "Blur again", "rehide", () => handlers.rehide(), "link"),
      whyBtn,
    );
  } else if (action === "hide") {
    container = h(
      "div",
      { class: "bar hide", "data-fw": "stub" },
      h("span", { class: "logo" }, label),
      h("span", { class: "reason", "data-fw": "stub-rule" }, ruleText.replace(/^ · /, "")),
      button("Show", "reveal", () => handlers.reveal()),
      whyBtn,
    );
  } else {
    // blur: an overlay card on top of the blurred post
    const card = h(
      "div",
      { class: "card", "data-fw": "blur-card" },
      h("div", { class: "logo" }, label),
      h("div", { class: "reason", "data-fw": "blur-reason" }, v.reason),
      h("div", { class: "fb" }, button("Show", "reveal", () => handlers.reveal()), whyBtn),
    );
    container = h("div", { class: "overlay", "data-fw": "overlay" }, card);
  }
  root.append(container);
  if (whyOpen) container.after(why);
}
