// Reach the extension's UI inside a post's *closed* shadow root from a test the way the reader does, not the
// way a page script could: the browsers' automation protocols see closed shadow roots (Chromium: CDP's DOM
// domain with `pierce`; Firefox: WebDriver BiDi serialising with `includeShadowTree: "all"`), and clicks are
// real mouse clicks from the browser's input pipeline (trusted events). A page script gets neither.
const UI_TAG = "feedwarden-ui";

/** `inner` is a `data-fw` name ("why", "reveal") or any selector inside the shadow root. */
const innerSelector = (inner) => (/^[\w-]+$/.test(inner) ? `[data-fw="${inner}"]` : inner);

/** A function declaration run with `this` = the shadow root: `fn` applied to each match of `sel` (`all`) or
 * to the first one (null when none). */
function declaration(fn, all) {
  return `function (sel, args) {
    const f = (${fn.toString()});
    if (${all}) return [...this.querySelectorAll(sel)].map((e) => f.apply(e, args));
    const e = this.querySelector(sel);
    return e ? f.apply(e, args) : null;
  }`;
}

class ClosedUiBase {
  constructor(page) {
    this.page = page;
  }

  /** `fn` called with `this` = the first match in `postSel`'s UI (null when there is none). */
  eval(postSel, inner, fn, ...args) {
    return this.callInShadow(postSel, declaration(fn, false), innerSelector(inner), args);
  }

  /** `fn` called on every match, in document order ([] when the post has no UI). */
  async evalAll(postSel, inner, fn, ...args) {
    return (await this.callInShadow(postSel, declaration(fn, true), innerSelector(inner), args)) ?? [];
  }

  text(postSel, inner) {
    return this.eval(postSel, inner, function () {
      return this.textContent;
    });
  }

  /** Whether the element is rendered (has a box). */
  async visible(postSel, inner) {
    return !!(await this.eval(postSel, inner, function () {
      const r = this.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    }));
  }

  async waitFor(postSel, inner, { timeout = 30000 } = {}) {
    const end = Date.now() + timeout;
    while (!(await this.visible(postSel, inner))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${inner} in the UI of ${postSel}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A real mouse click in the middle of the element (scrolled into view first). */
  async click(postSel, inner) {
    await this.waitFor(postSel, inner);
    const where = () =>
      this.eval(postSel, inner, function () {
        this.scrollIntoView({ block: "center", inline: "nearest" });
        const r = this.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      });
    // Click where the element is once it has stopped moving (an image loading above it shifts it).
    let at = await where();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await where();
      if (Math.abs(now.x - at.x) < 1 && Math.abs(now.y - at.y) < 1) break;
      at = now;
    }
    await this.page.mouse.click(at.x, at.y);
  }
}

/** Chromium (Playwright): CDP. */
export class ChromiumClosedUi extends ClosedUiBase {
  static async attach(context, page) {
    return new ChromiumClosedUi(page, await context.newCDPSession(page));
  }

  constructor(page, cdp) {
    super(page);
    this.cdp = cdp;
  }

  async callInShadow(postSel, functionDeclaration, sel, args) {
    const { root } = await this.cdp.send("DOM.getDocument", { depth: -1, pierce: true });
    const { nodeId } = await this.cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: `${postSel} > ${UI_TAG}` });
    const shadow = nodeId ? findNode(root, nodeId)?.shadowRoots?.[0] : null;
    if (!shadow) return null;
    const { object } = await this.cdp.send("DOM.resolveNode", { nodeId: shadow.nodeId });
    const r = await this.cdp.send("Runtime.callFunctionOn", {
      objectId: object.objectId,
      functionDeclaration,
      arguments: [{ value: sel }, { value: args }],
      returnByValue: true,
      awaitPromise: true,
    });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value ?? null;
  }

  detach() {
    return this.cdp.detach();
  }
}

/** The node with `nodeId` in a tree from `DOM.getDocument({ pierce: true })`. */
function findNode(node, nodeId) {
  if (node.nodeId === nodeId) return node;
  for (const k of [...(node.children ?? []), ...(node.shadowRoots ?? []), ...(node.contentDocument ? [node.contentDocument] : [])]) {
    const f = findNode(k, nodeId);
    if (f) return f;
  }
  return null;
}

/** Firefox (Puppeteer over WebDriver BiDi). */
export class FirefoxClosedUi extends ClosedUiBase {
  constructor(browser, page) {
    super(page);
    this.bidi = browser.connection;
    this.context = page.mainFrame()._id;
  }

  async #call(params) {
    const { result } = await this.bidi.send("script.callFunction", { target: { context: this.context }, awaitPromise: true, ...params });
    if (result.type === "exception") throw new Error(result.exceptionDetails?.text ?? "exception in the page");
    return result.result;
  }

  async callInShadow(postSel, functionDeclaration, sel, args) {
    const host = await this.#call({
      functionDeclaration: `function (s) { return document.querySelector(s); }`,
      arguments: [{ type: "string", value: `${postSel} > ${UI_TAG}` }],
      serializationOptions: { maxDomDepth: 1, includeShadowTree: "all" },
      resultOwnership: "none",
    });
    const shadowId = host?.type === "node" ? host.value?.shadowRoot?.sharedId : undefined;
    if (!shadowId) return null;
    const out = await this.#call({
      functionDeclaration: `function (sel, argsJson) { return JSON.stringify((${functionDeclaration}).call(this, sel, JSON.parse(argsJson))); }`,
      this: { sharedId: shadowId },
      arguments: [
        { type: "string", value: sel },
        { type: "string", value: JSON.stringify(args) },
      ],
      resultOwnership: "none",
    });
    return out?.type === "string" && out.value !== undefined ? JSON.parse(out.value) ?? null : null;
  }
}
