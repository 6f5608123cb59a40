// A local stand-in for the sites: one HTTP proxy on 127.0.0.1 that the browser is pointed at. HTTPS
// CONNECTs are terminated here with a throw-away self-signed certificate (the browser is told to accept
// it) and every request is answered from local files, by host name: nothing ever goes to a live site.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { FIXTURES, X_HTML } from "./env.mjs";
import { realPageFile } from "./real-pages.mjs";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif", ".webp": "image/webp" };

function selfSigned() {
  const dir = mkdtempSync(join(tmpdir(), "fw-cert-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=feedwarden-e2e"], { stdio: "ignore" });
  return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
}

function sendFile(res, path, extraHeaders = {}) {
  if (!path || !existsSync(path) || !statSync(path).isFile()) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found (feedwarden e2e server: live sites are never contacted)");
    return;
  }
  res.writeHead(200, { "content-type": TYPES[extname(path).toLowerCase()] ?? "application/octet-stream", "cache-control": "no-store", ...extraHeaders });
  res.end(readFileSync(path));
}

function safeJoin(dir, rel) {
  const p = normalize(join(dir, decodeURIComponent(rel)));
  return p.startsWith(dir) ? p : null;
}

/** Pages by host → path → file. `extraPages` lets a test register generated HTML. */
export function route(host, pathname, extraPages) {
  const key = `${host}${pathname}`;
  if (extraPages.has(key)) return { html: extraPages.get(key) };
  const real = realPageFile(host, pathname);
  if (real) return { file: real };
  switch (host) {
    case "x.com": {
      if (pathname === "/home") return { file: join(X_HTML, "home-twitter-complete.html") };
      if (pathname === "/bigtech") return { file: join(X_HTML, "bigtech-alert.html") };
      const m = /^\/(Home%20_%20Twitter_complete_files|home-twitter-complete_files)\/(.*)$/.exec(pathname);
      if (m) return { file: safeJoin(join(X_HTML, "home-twitter-complete_files"), m[2]) };
      const b = /^\/([^/]*_files)\/(.*)$/.exec(pathname);
      if (b) return { file: safeJoin(join(X_HTML, "bigtech-alert_files"), b[2]) };
      return { file: null };
    }
    case "pbs.twimg.com": {
      // Saved images of the x.com pages: /media/<name>?format=jpg → <name>.jpg in the _files folder.
      const name = pathname.split("/").pop();
      for (const dir of ["home-twitter-complete_files", "bigtech-alert_files"]) {
        for (const ext of [".jpg", ".png", ""]) {
          const p = join(X_HTML, dir, name + ext);
          if (existsSync(p)) return { file: p };
        }
      }
      return { file: null };
    }
    case "www.reddit.com":
      return { file: pathname === "/" ? join(FIXTURES, "reddit-new.html") : null };
    case "old.reddit.com":
      return { file: pathname === "/" ? join(FIXTURES, "reddit-old.html") : null };
    case "mastodon.social":
      return { file: pathname === "/home" ? join(FIXTURES, "mastodon.html") : null };
    case "www.youtube.com":
      // A watch page with comments (hand-written: no real one is saved); the home page is the real one.
      return { file: pathname === "/watch" ? join(FIXTURES, "youtube.html") : null };
    case "fixtures.test":
      return { file: safeJoin(FIXTURES, pathname.slice(1)) };
    default:
      return { file: null };
  }
}

export async function startServer() {
  const extraPages = new Map();
  const extraFiles = new Map();
  const requests = [];
  const handler = (req, res) => {
    const url = new URL(req.url, `https://${req.headers.host}`);
    const host = (url.hostname || "").toLowerCase();
    requests.push(`${host}${url.pathname}`);
    const generated = extraFiles.get(`${host}${url.pathname}`);
    if (generated) {
      res.writeHead(200, { "content-type": generated.type, "cache-control": "no-store" });
      res.end(generated.bytes);
      return;
    }
    const r = route(host, url.pathname, extraPages);
    if (r.html !== undefined) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(r.html);
    } else sendFile(res, r.file);
  };
  const tls = https.createServer(selfSigned(), handler);
  const proxy = http.createServer(handler);
  // Every socket the browser opened (CONNECT tunnels included), so that close() can end them: a tunnel kept
  // alive by a browser that is going away must not hold the test process's last hook open.
  const sockets = new Set();
  proxy.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  proxy.on("connect", (req, socket) => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    tls.emit("connection", socket);
  });
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
  const port = proxy.address().port;
  return {
    proxy: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** Serve generated HTML at https://<host><path>. */
    page(host, path, html) {
      extraPages.set(`${host}${path}`, html);
    },
    /** Serve generated bytes (e.g. a PNG drawn by the test) at https://<host><path>. */
    file(host, path, bytes, type) {
      extraFiles.set(`${host}${path}`, { bytes, type });
    },
    close: () =>
      new Promise((r) => {
        proxy.close(() => r());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
