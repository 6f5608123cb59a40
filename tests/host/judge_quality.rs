//! The judge on the posts issue 13 found misjudged, through `feedwarden classify` with the shipped defaults and
//! the real fine-tuned model: bait a reader recognises at a glance is labelled or blurred, ordinary posts that
//! use the same words are shown, and a screenshot's text never dilutes the post's own words. These are quality
//! checks on a real model (they can fail when a retrained judge gets worse), not golden numbers.

mod common;
#[path = "common/render.rs"]
mod render;

use std::collections::HashMap;
use std::process::Command;

use serde_json::{json, Value};

fn classify(posts: &[Value], models: &std::path::Path) -> HashMap<String, Value> {
    classify_with(posts, models, "feedwarden:defaults")
}

fn classify_with(posts: &[Value], models: &std::path::Path, policy: &str) -> HashMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines: Vec<String> = posts.iter().map(Value::to_string).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["classify", input.to_str().unwrap(), "-q", "--policy", policy])
        .current_dir(common::repo_root())
        .env("FEEDWARDEN_MODELS_DIR", models)
        .env("FEEDWARDEN_HOME", dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["id"].as_str().unwrap().to_string(), v))
        .collect()
}

fn score(v: &Value, cat: &str) -> f64 {
    v["scores"][cat].as_f64().unwrap_or_else(|| panic!("no {cat} score in {v}"))
}

#[test]
fn bait_is_caught_and_ordinary_posts_are_shown() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let posts = [
        json!({"id": "believe", "text": "You won't BELIEVE… Number 7 will shock you!"}),
        json!({"id": "doctors", "text": "Doctors HATE him! See why 👉"}),
        json!({"id": "parliament", "text": "These idiots in parliament… Share before they delete this!!!"}),
        json!({"id": "comment-yes", "text": "Comment YES if you agree 👇👇"}),
        json!({"id": "tag", "text": "Our puppy turned one today! Tag a friend who needs to see this ❤️"}),
        json!({"id": "council", "text": "The city council approved the new budget on Tuesday after a two-hour debate."}),
        json!({"id": "walk", "text": "Had a lovely walk with the dog this morning, the weather was perfect."}),
        json!({"id": "shared", "text": "Thanks to everyone who shared their comments at the town hall last night."}),
    ];
    let v = classify(&posts, &models);
    assert!(score(&v["believe"], "clickbait") >= 0.8, "clickbait: {}", v["believe"]);
    assert_ne!(v["believe"]["action"], "show", "{}", v["believe"]);
    // Read as bait, not as anger at someone (judge v1 blurred it as rage-bait for the word "HATE"; v2 showed
    // it at clickbait 0.69; v2.1's refit clickbait head labels it, measured 0.93).
    assert!(score(&v["doctors"], "clickbait") >= 0.8, "{}", v["doctors"]);
    assert_eq!(v["doctors"]["action"], "label", "{}", v["doctors"]);
    assert_eq!(v["doctors"]["rule"], "clickbait", "{}", v["doctors"]);
    assert_ne!(v["parliament"]["action"], "show", "{}", v["parliament"]);
    for id in ["comment-yes", "tag"] {
        assert!(score(&v[id], "engagement-bait") >= 0.8, "engagement bait: {}", v[id]);
        assert_ne!(v[id]["action"], "show", "{}", v[id]);
    }
    for id in ["council", "walk", "shared"] {
        assert_eq!(v[id]["action"], "show", "{}", v[id]);
    }
}

/// "<Profession> HATE him! See why" is clickbait whatever the profession: these professions are not among the
/// lines `models/scripts/refit_heads.py` fits (`own_posts.HATE_HIM_FIT_PROFESSIONS`), and these sentences are
/// written here, not generated. Posts that say "hate" about a real complaint stay shown. (Measured 2026-12-05,
/// v2 → v2.1 clickbait: nurses 0.87 → 0.99, airlines 0.43 → 0.84, batch of 1; the complaints 0.00–0.21.
/// v3: nurses, teachers and hairdressers labelled clickbait, electricians manipulation.)
#[test]
fn the_profession_hates_him_form_is_clickbait_for_unseen_professions() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let posts = [
        json!({"id": "nurses", "text": "Nurses HATE her! Find out why 👇"}),
        json!({"id": "teachers", "text": "TEACHERS HATE THIS MOM! SEE WHY 👉"}),
        json!({"id": "electricians", "text": "Electricians can't stand this guy! Click to see"}),
        json!({"id": "hairdressers", "text": "Hairdressers hate this trick! Link in bio"}),
        json!({"id": "shifts", "text": "Nurses hate working double shifts, and honestly who can blame them? Pay them more."}),
        json!({"id": "union", "text": "Teachers say they hate the new testing schedule, the union told the council on Monday."}),
        json!({"id": "vacuum", "text": "My cat hates the vacuum cleaner so much, she hides under the bed every Saturday."}),
        json!({"id": "cilantro", "text": "Why do so many people hate cilantro? Is it genetic?"}),
    ];
    let v = classify(&posts, &models);
    for id in ["nurses", "teachers", "electricians", "hairdressers"] {
        assert_eq!(v[id]["action"], "label", "{}", v[id]);
    }
    // v3 labels "Electricians can't stand this guy! Click to see" as manipulation (0.87; clickbait 0.38 in this
    // batch, 0.67 alone), where v2.1 and v2.2 labelled it clickbait: at least three of the four by clickbait.
    let by_clickbait = ["nurses", "teachers", "electricians", "hairdressers"]
        .iter()
        .filter(|id| v[**id]["rule"] == "clickbait")
        .count();
    assert!(by_clickbait >= 3, "{by_clickbait} of 4 labelled clickbait: {v:?}");
    for id in ["shifts", "union", "vacuum", "cilantro"] {
        assert!(score(&v[id], "clickbait") < 0.5, "{}", v[id]);
        assert_eq!(v[id]["action"], "show", "{}", v[id]);
    }
}

/// Titles of ordinary community posts (a picture, a project, a pet, a forum question), written for this test, are
/// shown: the headline data taught the judge that a short informal title is clickbait, and v2.1 labelled Reddit
/// titles such as "My friend made a cat pancake". v2.2's clickbait refit has the project's own ordinary titles as
/// negatives (`own_posts.ordinary_titles`). Three of these share a form with templates the refit fitted ("Our
/// rescue cat…" with "Our {pet} {pet_act}", "[Minecraft]…" with "[{game}] {clip}", "Gardeners of Reddit…" with
/// "{people} of Reddit, what is {topic_q}?"); the other five are further from them. Measured 2026-12-05 through
/// this CLI: v2.1 labelled "Our rescue cat…" (0.88) and scored the others 0.00–0.74; v2.2 scores all eight
/// 0.00–0.74 for clickbait.
#[test]
fn ordinary_community_titles_are_shown() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let posts = [
        json!({"id": "chair", "text": "My grandpa built this rocking chair for my daughter"}),
        json!({"id": "harbour", "text": "Sunrise over the harbour this morning"}),
        json!({"id": "castle", "text": "[Minecraft] Took me three months to build this castle"}),
        json!({"id": "skill", "text": "What's a skill you learned late that you wish you'd learned earlier?"}),
        json!({"id": "rescue", "text": "Our rescue cat on her first night home"}),
        json!({"id": "bike", "text": "Spent the weekend restoring my dad's old bike"}),
        json!({"id": "pho", "text": "Homemade pho, third attempt"}),
        json!({"id": "gardeners", "text": "Gardeners of Reddit, what plant surprised you the most?"}),
    ];
    let v = classify(&posts, &models);
    for post in &posts {
        let id = post["id"].as_str().unwrap();
        assert_eq!(v[id]["action"], "show", "{}", v[id]);
    }
}

/// Clickbait as feeds write it (caps, emoji, "👇"), written for this test, none of it in the training data. The
/// first three lines were written on 2026-12-05 after judge v2.1 was made, the other twenty before judge v3 was
/// first scored on them (and never changed after).
const FEED_STYLE_CLICKBAIT: [&str; 23] = [
    "STOP scrolling! You NEED to see this 😱👇",
    "This is why you should NEVER charge your phone overnight 👇",
    "The one thing your dentist will never tell you 🦷👉",
    "You'll never guess what this grandma found in her attic 😮",
    "Doctors are stunned by this simple morning habit ☕👇",
    "I tried this for 30 days and the results SHOCKED me 😱",
    "This one kitchen trick will change your life forever 🍳",
    "Why nobody talks about this anymore… 🤔👇",
    "The real reason airlines don't want you to know this ✈️",
    "He thought it was a normal day. Then THIS happened 😳",
    "99% of people get this wrong. Do you? 🧠",
    "Watch till the end, you won't regret it 🔥",
    "The truth about bananas they never told you 🍌",
    "I can't believe this actually works 😂👉",
    "Scientists finally reveal the secret behind this 🤯",
    "What she did next will melt your heart ❤️",
    "Everyone is talking about this video right now 👀",
    "Stop doing this immediately if you own a dog 🐶⚠️",
    "Here's what really happens when you skip breakfast 👇",
    "The mistake 90% of parents make every single day",
    "This changes EVERYTHING we knew about sleep 😴",
    "They laughed at him. Now look at him 💰",
    "You've been cutting onions wrong your whole life 🧅",
];

/// Ordinary posts with the same caps, emoji and exclamation marks, written the same way (the first six with the
/// first three bait lines).
const ORDINARY_POSTS_WITH_EMOJI: [&str; 26] = [
    "SO PROUD of my daughter, she graduated today!!! 🎓❤️",
    "Finally finished the garden fence 💪 took all weekend",
    "HAPPY BIRTHDAY MOM 🎂🎉 love you so much",
    "Traffic on the A1 is terrible this morning 😩 leave early",
    "New recipe tonight: lemon chicken with rice 🍋 turned out great",
    "GAME DAY!!! Let's go team 🏈🔥",
    "Made pancakes for the kids this morning 🥞 they loved them",
    "Our team won the regional final!!! So proud of everyone 🏆",
    "Rainy day, staying in with a book and tea ☔📚",
    "Anyone know a good plumber in Leeds? Kitchen sink is leaking",
    "FINALLY got my driving licence 🚗🎉",
    "The sunset over the lake tonight was unreal 🌅",
    "Just finished my first half marathon, legs are dead 😅",
    "Reminder: the library is closed on Monday for the holiday",
    "Does anyone have tips for keeping basil alive indoors? 🌿",
    "Happy anniversary to my best friend and husband ❤️",
    "New blog post up: how I organise my notes for uni",
    "Our cat learned to open the fridge. Send help 😂",
    "The bus was 40 minutes late again today 🙄",
    "Tried the new ramen place downtown, really good 🍜",
    "Can't wait for the concert on Friday!!! 🎶",
    "We planted three apple trees in the garden this weekend 🍎",
    "Baby's first steps today 😭❤️",
    "Moving house next week, so many boxes 📦",
    "Game night with the family, Monopoly got heated 😂",
    "Thanks everyone for the birthday wishes!! 🎂",
];

/// Feed-style clickbait is labelled and ordinary posts with the same caps and emoji are shown (issue 13: clickbait
/// "must work on social posts with emoji and caps"). A rate, not every line: a retrained judge moves single lines
/// both ways. Measured 2026-12-05 through this CLI: judge v3 labels 15 of the 23 bait lines and shows all 26
/// ordinary posts; v2.2 (batch of 1, Python) labelled 15 and would have labelled one ordinary post ("Made pancakes
/// for the kids this morning" 0.96). v3 shows "This is why you should NEVER charge your phone overnight 👇" (0.30),
/// which v2.1 and v2.2 labelled: `models/cards/judge.md`, "Limits".
#[test]
fn feed_style_clickbait_is_labelled_and_ordinary_posts_with_emoji_and_caps_are_shown() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let mut posts: Vec<Value> =
        FEED_STYLE_CLICKBAIT.iter().enumerate().map(|(i, t)| json!({"id": format!("bait{i}"), "text": t})).collect();
    posts.extend(
        ORDINARY_POSTS_WITH_EMOJI.iter().enumerate().map(|(i, t)| json!({"id": format!("plain{i}"), "text": t})),
    );
    let v = classify(&posts, &models);
    let labelled: Vec<&str> = (0..FEED_STYLE_CLICKBAIT.len())
        .filter(|i| v[&format!("bait{i}")]["rule"] == "clickbait")
        .map(|i| FEED_STYLE_CLICKBAIT[i])
        .collect();
    assert!(
        labelled.len() >= 14,
        "only {} of {} bait lines labelled clickbait: {labelled:?}",
        labelled.len(),
        FEED_STYLE_CLICKBAIT.len()
    );
    for i in 0..ORDINARY_POSTS_WITH_EMOJI.len() {
        let id = format!("plain{i}");
        assert_eq!(v[&id]["action"], "show", "{}", v[&id]);
    }
}

/// Issue 13's meme, rendered as an image under a post that says nothing: its OCR text alone gets it filtered
/// (judge v1 showed it: every score stayed below its threshold).
#[test]
fn the_issues_meme_is_caught_from_its_image_text() {
    let Some(models) = render::image_models() else {
        return;
    };
    let meme = render::text_image_data_url(&["THEY ARE LAUGHING AT YOU", "SHARE BEFORE THEY DELETE IT"]);
    let v = classify(&[json!({"id": "meme", "text": "look", "images": [meme]})], &models);
    let meme = &v["meme"];
    assert_ne!(meme["action"], "show", "{meme}");
    assert!(meme["reason"].as_str().unwrap().contains("text in the image"), "{meme}");
}

/// A screenshot with ordinary text under a clickbait post: the post's own words still decide (the image's
/// text is scored apart, the higher score wins; `cli.rs` checks that a meme's own words are caught).
#[test]
fn a_screenshot_never_dilutes_the_posts_own_words() {
    let Some(models) = render::image_models() else {
        return;
    };
    let calm = render::text_image_data_url(&["Opening hours", "Monday to Friday", "9am to 5pm"]);
    let posts = [
        json!({"id": "alone", "text": "You Won't Believe What This Dog Did Next"}),
        json!({"id": "with-image", "text": "You Won't Believe What This Dog Did Next", "images": [calm]}),
    ];
    let v = classify(&posts, &models);
    let (alone, with) = (score(&v["alone"], "clickbait"), score(&v["with-image"], "clickbait"));
    assert!(alone >= 0.8, "{}", v["alone"]);
    assert!((with - alone).abs() < 1e-3, "the screenshot changed the post's clickbait score: {alone} -> {with}");
}
/// The shipped example `policies/examples/mock-looks.toml` (6 + 6 examples, its negatives about looks said
/// kindly): new posts that mock someone's looks rank above new kind or plain posts about looks, glasses or
/// chairs, the clearest are hidden and none of the kind ones is. (Measured 2026-12-04: mocking 0.70–0.96, kind
/// 0.02–0.47; its 3 + 2 predecessor gave two of the kind posts 0.50 and 0.54.)
#[test]
fn the_shipped_mock_looks_rule_tells_mockery_from_kind_words_about_looks() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let policy = common::repo_root().join("policies/examples/mock-looks.toml");
    let mocking = [
        ("mock-makeup", "did she do her makeup with a paint roller? what a clown face 🤡"),
        ("mock-body", "that guy is built like a fridge, no wonder the chair broke lmao"),
        ("mock-glasses", "those glasses make her look like a bug, so ugly"),
    ];
    let kind = [
        ("kind-makeup", "Her makeup at the premiere was gorgeous, the colours were so bold"),
        ("chair", "Bought a new office chair for my back, best purchase this year"),
        ("glasses", "Finally got new glasses and I can read street signs again!"),
        ("grandmother", "Our grandmother turned 90 today and she still looks radiant"),
    ];
    let posts: Vec<Value> = mocking.iter().chain(&kind).map(|(id, text)| json!({"id": id, "text": text})).collect();
    let v = classify_with(&posts, &models, policy.to_str().unwrap());
    let lowest_mocking = mocking.iter().map(|(id, _)| score(&v[*id], "mock-looks")).fold(f64::MAX, f64::min);
    for (id, _) in kind {
        assert!(score(&v[id], "mock-looks") < lowest_mocking, "{} ranks above a mocking post", v[id]);
        assert_eq!(v[id]["action"], "show", "{}", v[id]);
    }
    for id in ["mock-makeup", "mock-glasses"] {
        assert_eq!(v[id]["action"], "hide", "{}", v[id]);
    }
}

/// The shipped user-defined rules flag few posts of a real feed at their thresholds: a few-shot scorer must be
/// calibrated against ordinary posts, not only rank well on labelled sets (a scorer that ranked 10 + 10
/// validation sets better was withdrawn because its rules flagged 20–40 % of these posts: models/cards/judge.md,
/// "Few-shot user-defined categories"). Measured 2026-12-04: mock-looks 13 of 879, spiders 3 of 879. Skipped
/// without ../shared/data.
#[test]
fn the_shipped_user_rules_flag_few_posts_of_real_feeds() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let Some(feeds) = common::shared_feeds() else { return };
    let mut inputs: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&feeds).unwrap() {
        let sub = entry.unwrap().path();
        if sub.is_dir() {
            for f in std::fs::read_dir(&sub).unwrap() {
                let p = f.unwrap().path();
                if p.extension().is_some_and(|e| e == "json") {
                    inputs.push(p.display().to_string());
                }
            }
        }
    }
    inputs.sort();
    for (policy, rule) in
        [("policies/examples/mock-looks.toml", "mock-looks"), ("policies/examples/spiders.toml", "spiders")]
    {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let mut args = vec!["batch", "-q", "--policy", policy, "-o", out.to_str().unwrap()];
        args.extend(inputs.iter().map(String::as_str));
        let o = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
            .args(&args)
            .current_dir(common::repo_root())
            .env("FEEDWARDEN_MODELS_DIR", &models)
            .env("FEEDWARDEN_HOME", dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows: Vec<Value> =
            std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let flagged = rows.iter().filter(|r| r["scores"][rule].as_f64().unwrap_or(0.0) >= 0.7).count();
        assert!(rows.len() >= 800, "{} posts", rows.len());
        assert!(flagged * 100 <= rows.len() * 3, "{rule}: {flagged} of {} captured posts at 0.7", rows.len());
    }
}
