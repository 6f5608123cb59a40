// Helpers that act on the saved x.com page like X's own infinite scroll does: clone a real tweet's markup,
// put new text (and optionally a photo) in it, and insert it as a new timeline cell.
export async function insertTweets(page, tweets) {
  return page.evaluate((tweets) => {
    const template = [...document.querySelectorAll('article[data-testid="tweet"]')].find(
      (a) => a.querySelectorAll('[data-testid="User-Name"]').length === 1 && a.querySelector('[data-testid="tweetText"]') && !a.querySelector('[data-testid="tweetPhoto"]') && a.getBoundingClientRect().height > 0,
    );
    const cell = template.closest('[data-testid="cellInnerDiv"]') ?? template.parentElement;
    // The saved timeline is a virtualised list with fixed positions; new cells go into a plain list at the
    // top of the column, as X renders new posts at the top after "Show new posts".
    let feed = document.getElementById("fw-test-feed");
    if (!feed) {
      feed = document.createElement("div");
      feed.id = "fw-test-feed";
      const column = document.querySelector('[data-testid="primaryColumn"]') ?? document.body;
      column.prepend(feed);
    }
    const out = [];
    for (const t of tweets) {
      const c = cell.cloneNode(true);
      for (const e of c.querySelectorAll("feedwarden-ui")) e.remove();
      for (const e of [c, ...c.querySelectorAll("*")]) for (const a of [...e.attributes]) if (a.name.startsWith("data-fw")) e.removeAttribute(a.name);
      const art = c.querySelector('article[data-testid="tweet"]');
      art.querySelector('[data-testid="tweetText"]').textContent = t.text;
      if (t.handle) for (const a of art.querySelectorAll('[data-testid="User-Name"] a[href]')) a.setAttribute("href", `/${t.handle}`);
      if (t.image) {
        // A photo the way X marks it up (the adapter reads [data-testid="tweetPhoto"] img).
        const photo = document.createElement("div");
        photo.setAttribute("data-testid", "tweetPhoto");
        const img = document.createElement("img");
        img.src = t.image;
        img.alt = "Image";
        img.style.maxWidth = "100%";
        photo.append(img);
        art.querySelector('[data-testid="tweetText"]').after(photo);
      }
      if (t.followed) {
        const b = document.createElement("button");
        b.setAttribute("data-testid", `${t.handle}-unfollow`);
        b.textContent = "Following";
        art.append(b);
      }
      art.setAttribute("data-test-id", t.id);
      art.setAttribute("data-test-inserted", String(performance.now()));
      c.removeAttribute("style");
      feed.append(c);
      out.push(t.id);
    }
    return out;
  }, tweets);
}

export function stateOf(page, testId) {
  return page.getAttribute(`article[data-test-id="${testId}"]`, "data-fw-state");
}

/** State of the real tweet whose text contains `snippet`. */
export function stateByText(page, snippet) {
  return page.evaluate((snippet) => {
    const a = [...document.querySelectorAll('article[data-testid="tweet"]')].find((x) => {
      return [...x.querySelectorAll('[data-testid="tweetText"]')].some((t) => t.textContent.includes(snippet));
    });
    return a ? a.getAttribute("data-fw-state") : "no such tweet";
  }, snippet);
}
