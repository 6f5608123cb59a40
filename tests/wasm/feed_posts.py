#!/usr/bin/env python3
"""Extract post texts from the captured feeds in ../shared/data/feeds as Feedwarden JSONL posts.

    python3 tests/wasm/feed_posts.py [FEEDS_DIR] > posts.jsonl

Standard library only. Used by the WASM-vs-native agreement test (tests/wasm/) and by
models/scripts/train_tiny.py to report agreement; the captured feeds are never used for training.
Reads X GraphQL responses (tweets: legacy.full_text, note_tweet for long posts), Bluesky XRPC responses
(app.bsky.feed.post records), Reddit cassettes (t3 listings: title + selftext) and Mastodon statuses
(content HTML stripped). Posts are deduplicated by (site, id) and printed sorted, so runs are identical.
"""
from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path


def walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def x_posts(doc):
    for d in walk(doc):
        legacy = d.get("legacy")
        if not (isinstance(legacy, dict) and "full_text" in legacy and "rest_id" in d):
            continue
        text = legacy["full_text"]
        note = (((d.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {}).get("text")
        if note:
            text = note
        user = (((d.get("core") or {}).get("user_results") or {}).get("result") or {})
        handle = (user.get("legacy") or {}).get("screen_name") or (user.get("core") or {}).get("screen_name")
        yield {"id": str(d["rest_id"]), "site": "x.com", "author": handle, "text": text}


def bluesky_posts(doc):
    for d in walk(doc):
        rec = d.get("record")
        if isinstance(rec, dict) and rec.get("$type") == "app.bsky.feed.post" and "uri" in d:
            author = (d.get("author") or {}).get("handle")
            yield {"id": d["uri"], "site": "bsky.app", "author": author, "text": rec.get("text", "")}


def reddit_posts(doc):
    for inter in doc.get("interactions", []):
        body = ((inter.get("response") or {}).get("body") or {}).get("string")
        if not body:
            continue
        try:
            listing = json.loads(body)
        except json.JSONDecodeError:
            continue
        for d in walk(listing):
            if d.get("kind") == "t3" and isinstance(d.get("data"), dict):
                p = d["data"]
                text = p.get("title", "")
                if p.get("selftext"):
                    text += "\n" + p["selftext"]
                yield {"id": p.get("name") or p.get("id"), "site": "reddit.com", "author": p.get("author"), "text": text}


TAG = re.compile(r"<[^>]+>")


def mastodon_posts(doc):
    for d in walk(doc):
        if "content" in d and "account" in d and "id" in d:
            text = html.unescape(TAG.sub(" ", d["content"].replace("</p>", "\n")))
            yield {"id": str(d["id"]), "site": "mastodon.social", "author": (d.get("account") or {}).get("acct"),
                   "text": text}


READERS = {"x-graphql": x_posts, "bluesky": bluesky_posts, "reddit": reddit_posts, "mastodon": mastodon_posts}


def feed_posts(feeds: Path) -> list[dict]:
    out: dict[tuple[str, str], dict] = {}
    for folder, reader in READERS.items():
        for f in sorted((feeds / folder).glob("*.json")):
            for p in reader(json.loads(f.read_text(encoding="utf-8"))):
                if p["text"].strip():
                    out.setdefault((p["site"], p["id"]), p)
    return [out[k] for k in sorted(out)]


def default_feeds() -> Path:
    env = os.environ.get("FEEDWARDEN_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return base / "feeds"


if __name__ == "__main__":
    feeds = Path(sys.argv[1]) if len(sys.argv) > 1 else default_feeds()
    if not feeds.is_dir():
        sys.exit(f"feeds not found at {feeds}")
    for p in feed_posts(feeds):
        print(json.dumps(p, ensure_ascii=False))
