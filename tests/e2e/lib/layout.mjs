// Layout checks shared by the Chromium and Firefox tests: the extension's UI must lie over a post without
// moving or resizing anything the site laid out, and a blur veil must cover the whole post.
import assert from "node:assert/strict";

/** Runs in the page (Playwright or Puppeteer `evaluate`). For every post matching `sel` that is shown,
 * labelled or blurred (a hidden post's content is gone by design), the box of the post and of every element
 * inside it (relative to the post's corner), measured twice: as the extension shows it, and with the
 * extension's page CSS switched off and its UI removed from layout (the page as the site made it). */
export function measurePostLayout(sel) {
  const posts = [...document.querySelectorAll(sel)].filter((p) => ["show", "label", "blur"].includes(p.getAttribute("data-fw-state")) && p.getBoundingClientRect().height > 0);
  const boxes = () =>
    posts.map((p) => {
      const o = p.getBoundingClientRect();
      const els = [...p.querySelectorAll("*")].filter((e) => e.localName !== "feedwarden-ui");
      return {
        post: [o.width, o.height],
        // Elements without a box (display: none) have no position to compare.
        inner: els.map((e) => {
          if (!e.getClientRects().length) return null;
          const r = e.getBoundingClientRect();
          return [r.x - o.x, r.y - o.y, r.width, r.height];
        }),
      };
    });
  const withUi = boxes();
  const sheet = document.getElementById("feedwarden-style");
  const off = document.createElement("style");
  off.textContent = "feedwarden-ui { display: none !important; }";
  sheet.disabled = true;
  document.head.append(off);
  const without = boxes();
  sheet.disabled = false;
  off.remove();
  return posts.map((p, i) => ({
    state: p.getAttribute("data-fw-state"),
    text: (p.textContent || "").replace(/\s+/g, " ").trim().slice(0, 60),
    fontSize: parseFloat(getComputedStyle(p).fontSize),
    withUi: withUi[i],
    without: without[i],
  }));
}

/** Nothing inside a post moved or changed size by more than half a pixel, the post's width included. */
export function assertLayoutUnchanged(measured, where) {
  assert.ok(measured.length > 0, `${where}: no shown, labelled or blurred post to measure`);
  for (const m of measured) {
    const what = `${where}, ${m.state} post "${m.text}"`;
    assert.ok(Math.abs(m.withUi.post[0] - m.without.post[0]) <= 0.5, `${what}: width ${m.without.post[0]} → ${m.withUi.post[0]}`);
    assert.ok(Math.abs(m.withUi.post[1] - m.without.post[1]) <= 0.5, `${what}: height ${m.without.post[1]} → ${m.withUi.post[1]}`);
    assert.equal(m.withUi.inner.length, m.without.inner.length, what);
    m.withUi.inner.forEach((box, j) => {
      const before = m.without.inner[j];
      const moved = !box !== !before || (box && box.some((v, k) => Math.abs(v - before[k]) > 0.5));
      assert.ok(!moved, `${what}: element ${j} of ${m.withUi.inner.length} moved or resized: ${before?.map(Math.round)} → ${box?.map(Math.round)}`);
    });
  }
}

/** The share of `post`'s box ({x, y, width, height}) that `cover` covers. */
export function coverage(cover, post) {
  const w = Math.max(0, Math.min(cover.x + cover.width, post.x + post.width) - Math.max(cover.x, post.x));
  const h = Math.max(0, Math.min(cover.y + cover.height, post.y + post.height) - Math.max(cover.y, post.y));
  return (w * h) / (post.width * post.height);
}

/** Runs inside the UI's shadow root (ClosedUi.eval): the element's box and its font as the reader sees it. */
export function boxAndFont() {
  const r = this.getBoundingClientRect();
  const cs = getComputedStyle(this);
  return { x: r.x, y: r.y, width: r.width, height: r.height, fontFamily: cs.fontFamily, fontSize: parseFloat(cs.fontSize), color: cs.color, background: cs.backgroundColor };
}

/** The font is the system's sans-serif, not the browser's default serif (Times), at a readable size. */
export function assertSystemFont(f, where) {
  assert.ok(f, `${where}: no UI element to read the font from`);
  assert.doesNotMatch(f.fontFamily, /times/i, `${where}: font ${f.fontFamily}`);
  assert.match(f.fontFamily, /system-ui/, `${where}: font ${f.fontFamily}`);
  assert.ok(f.fontSize >= 12 && f.fontSize <= 16, `${where}: font size ${f.fontSize}px`);
}
