// Which image URLs the background fetches for a page (extension/src/background/image-urls.ts, used by
// validate.ts and images.ts; issue 11): only public http(s) hosts, and for sites with known media hosts only
// those. A page naming a loopback or private-network address must never make the extension send a request.
// Needs no browser, host or model.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { importExtensionModule } from "./lib/bundle.mjs";

globalThis.chrome = { runtime: { id: "test" } };

let validate;
let images;
before(async () => {
  validate = await importExtensionModule("src/background/validate.ts");
  images = await importExtensionModule("src/background/images.ts");
});

/** URLs no page may make the extension fetch, whatever the site. */
const REFUSED = [
  "http://localhost/a.png",
  "http://localhost./a.png",
  "https://app.localhost/a.png",
  "http://127.0.0.1/a.png",
  "http://127.1/a.png",
  "http://2130706433/a.png", // 127.0.0.1 as one number
  "http://0x7f000001/a.png",
  "http://[::1]/a.png",
  "http://[::ffff:127.0.0.1]/a.png",
  "http://10.0.0.1/a.png",
  "http://172.16.5.4/a.png",
  "http://172.31.255.255/a.png",
  "http://192.168.1.1/admin.png",
  "http://169.254.169.254/latest/meta-data/",
  "http://[fc00::1]/a.png",
  "http://[fd12:3456::1]/a.png",
  "http://[fe80::1]/a.png",
  "http://0.0.0.0/a.png",
  "http://printer.local/a.png",
  "http://router.home.arpa/a.png",
  "http://intranet/a.png",
  "http://nas.internal/a.png",
  "ftp://pbs.twimg.com/media/a.jpg",
  "file:///etc/passwd",
  "data:image/png;base64,AAAA",
  "javascript:alert(1)",
  "https://user:secret@pbs.twimg.com/media/a.jpg",
  "https://pbs.twimg.com:8443/media/a.jpg",
  "/media/relative.jpg",
  "https://pbs.twimg.com/" + "a".repeat(2100),
];

describe("image URL policy", () => {
  for (const url of REFUSED) {
    test(`refused on any site: ${url.slice(0, 60)}`, () => {
      for (const site of ["x.com", "mastodon.social", "bsky.app"]) {
        const post = validate.sanitizePost({ id: "p", text: "t", images: [url] }, site);
        assert.ok(post, "the post itself is kept");
        assert.equal(post.images, undefined, `${url} kept for ${site}`);
      }
    });
  }

  test("the sites' own media hosts are kept, in order, with the site set from the sender", () => {
    const cases = [
      ["x.com", ["https://pbs.twimg.com/media/a.jpg?format=jpg&name=small", "https://x.com/home-twitter-complete_files/b.jpg"]],
      ["www.reddit.com", ["https://i.redd.it/spider123.jpg", "https://preview.redd.it/x.png?width=640"]],
      ["bsky.app", ["https://cdn.bsky.app/img/feed_thumbnail/plain/did:plc:def/b@jpeg"]],
      ["www.youtube.com", ["https://i.ytimg.com/vi/crypto00001/hqdefault.jpg", "https://yt3.ggpht.com/abc=s68"]],
      ["www.threads.com", ["https://scontent-atl3-1.cdninstagram.com/v/t51/a.jpg", "https://instagram.fsig5-1.fna.fbcdn.net/b.jpg"]],
      ["www.linkedin.com", ["https://media.licdn.com/dms/image/a.jpg"]],
      // Mastodon instances keep their media anywhere: any public host.
      ["mastodon.social", ["https://files.mastodon.social/media_attachments/files/spider.jpg", "https://cdn.masto.host/a.png"]],
    ];
    for (const [site, urls] of cases) {
      const post = validate.sanitizePost({ id: "p", text: "t", site: "evil.example", images: urls }, site);
      assert.deepEqual(post.images, urls, site);
      assert.equal(post.site, site, "the page cannot claim another site");
    }
  });

  test("a known site's posts cannot name images on other public hosts", () => {
    const post = validate.sanitizePost({ id: "p", text: "t", images: ["https://tracker.example.net/pixel.gif", "https://pbs.twimg.com/media/a.jpg", "https://169.254.169.254.nip.io/a.png"] }, "x.com");
    assert.deepEqual(post.images, ["https://pbs.twimg.com/media/a.jpg"]);
  });

  test("downsizeImage sends no request for a refused URL", async () => {
    const fetched = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (url) => {
      fetched.push(String(url));
      throw new Error("no network in this test");
    };
    try {
      for (const url of ["http://127.0.0.1:8080/a.png", "http://192.168.1.1/a.png", "http://[::1]/a.png", "https://user:pw@pbs.twimg.com/a.jpg"]) {
        await assert.rejects(images.downsizeImage(url, "x.com"), /not fetched/, url);
      }
      assert.deepEqual(fetched, [], "no request left the extension");
      // An allowed URL is fetched without cookies, referrer or redirects.
      let init;
      globalThis.fetch = async (url, i) => {
        fetched.push(String(url));
        init = i;
        throw new Error("no network in this test");
      };
      await assert.rejects(images.downsizeImage("https://pbs.twimg.com/media/a.jpg", "x.com"), /no network/);
      assert.deepEqual(fetched, ["https://pbs.twimg.com/media/a.jpg"]);
      assert.equal(init.credentials, "omit");
      assert.equal(init.redirect, "error");
      assert.equal(init.referrerPolicy, "no-referrer");
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
