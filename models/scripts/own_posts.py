"""Feedwarden's own written training posts: engagement bait, social-media clickbait, false urgency, and ordinary
posts that use the same words innocently (hard negatives).

No public labelled set of engagement bait exists (../shared/data/README.md), so these are written by the project:
templates of the forms that farm reactions (like / share / comment / tag / vote bait, "follow for part 2", fake
giveaways, "share before they delete this", "type AMEN", "only 1% can solve this") filled with topics, emoji and
casing variants. They are rules of thumb, not observations: every figure measured on them is marked "own written
data" in models/cards/judge.md and none is called held out. Each example carries its template's id; splits are
made by template (a template's fills never straddle fitting and validation), so the validation figure at least
measures generalisation to unseen phrasings.

    from own_posts import own_examples
    rows = own_examples()   # [(text, task, label, group)], deterministic
"""
from __future__ import annotations

import random
import re

SEED = 20261204

TOPICS = [
    "this dog", "my grandma", "a nurse", "this little boy", "the new iPhone", "pizza", "my cat", "this teacher",
    "a soldier coming home", "this tiny house", "Monday mornings", "coffee", "our team", "this sunset",
    "a firefighter", "homemade bread", "my dad", "this old car", "the weekend", "a rescue puppy", "Taylor Swift",
    "this recipe", "a single mom", "the moon tonight", "my garden", "this trick shot", "a stray kitten",
]
GROUPS = ["dog lovers", "moms", "gamers", "cat people", "nurses", "teachers", "real fans", "true patriots",
          "coffee addicts", "Christians", "night owls", "gym rats", "book lovers"]
EMOJI = ["", "", " 👇", " 👇👇", " 🙏", " ❤️", " 🔥", " 😱", " 👉", " ‼️", " 😂", " 💯", " 🤔", " ⬇️", " 🎁"]
# Openers a bait line is often appended to (the post says something, then asks for the reaction).
OPENERS = ["Just finished my first marathon!", "Look at {topic}.", "{topic} turned 10 today.",
           "Made this for dinner tonight.", "Found this in my grandma's attic.", "Sunday vibes.",
           "This made my day.", "Can't stop laughing at {topic}.", "After 20 years I finally did it.",
           "Rescued {topic} from the rain today.", "Our little one took her first steps!", "Throwback to 1998."]
PRIZES = ["a $500 gift card", "an iPhone 17", "a PS5", "a brand new car", "$1,000 cash", "a free cruise",
          "a year of free groceries", "two concert tickets", "a MacBook"]


def _case(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.15:
        return s.upper()
    if r < 0.25:
        return s.lower()
    return s


def _fill(rng: random.Random, t: str) -> str:
    out = t.format(
        topic=rng.choice(TOPICS), group=rng.choice(GROUPS), prize=rng.choice(PRIZES),
        n=rng.choice(["1", "2", "3", "5", "10", "99"]), pct=rng.choice(["1%", "2%", "5%", "0.1%"]),
        hours=rng.choice(["24 hours", "an hour", "tonight", "10 minutes", "midnight"]),
        year=rng.choice(["2026", "this year", "today"]))
    return _case(rng, out) + rng.choice(EMOJI)


# Engagement bait: the post asks for a reaction rather than saying something. One list per form.
ENGAGEMENT_BAIT = {
    "like-if": ["Like if you agree!", "Like this if you love {topic}", "Hit like if {topic} made you smile",
                "Like if you remember {topic}", "Smash that like button if you're one of the {group}",
                "1 like = 1 prayer for {topic}", "Like for good luck in {year}", "Double tap if you love {topic}"],
    "share-if": ["Share if you agree", "Share this if you're proud of {topic}", "Share if you think {topic} deserves "
                 "better", "Most people won't share this. Will you?", "Share to show you care about {topic}",
                 "Repost if you're one of the {group}", "I bet you won't share this", "Share so everyone sees it"],
    "comment-word": ["Comment YES if you agree", "Type AMEN if you believe", "Type 'I'm in' for a surprise",
                     "Comment your birth month and see what happens", "Say YES if you love {topic}",
                     "Comment 'me' if you want part 2", "Drop a ❤️ in the comments if you love {topic}",
                     "Type 1 if you see it, 2 if you don't", "Comment your favourite emoji for {topic}"],
    "tag-friend": ["Tag a friend who needs to see this", "Tag someone who loves {topic}",
                   "Tag your best friend and say nothing", "Tag 3 friends who would do this",
                   "Tag someone who owes you {topic}", "Tag a mate who is one of the {group}",
                   "Send this to someone who needs to laugh today"],
    "vote-react": ["Vote with reactions: ❤️ for {topic}, 😂 for pizza", "Like for cats, share for dogs",
                   "Which one? React ❤️ for A or 👍 for B", "❤️ = yes, 😡 = no. Go!",
                   "Pick one: like for summer, comment for winter", "React with 👍 if you'd try {topic}"],
    "follow-part2": ["Follow for part 2", "Follow me for more like this", "Part 2 at 10k likes",
                     "Follow so you don't miss part 2 of {topic}", "Wait for the end... follow for more",
                     "If this gets 1,000 likes I'll post part 2", "Follow and turn on notifications for more {topic}"],
    "giveaway": ["GIVEAWAY! Like, share and comment to win {prize}", "We're giving away {prize}! Share this post and "
                 "tag 2 friends to enter", "Win {prize}: follow, like and share. Winner picked at {hours}",
                 "Everyone who shares this gets {prize}, no joke", "Free {prize} to the first 100 people who "
                 "comment DONE", "Like + share + tag = chance to win {prize}"],
    "before-delete": ["Share before they delete this!", "They don't want you to see this. Share before it's gone",
                      "Facebook will take this down in {hours}, share it now", "Copy and paste before they ban it",
                      "Spread this before it gets removed!", "Repost before they censor it"],
    "puzzle-bait": ["Only {pct} can solve this. Can you?", "99% of people fail this test. Comment your answer",
                    "If you can read this you have a high IQ. Comment below", "Only geniuses will find the "
                    "hidden {topic}", "Bet you can't name a word without the letter A", "Most people get this "
                    "wrong. What's your answer?"],
    "ignore-guilt": ["I bet nobody will like this because {topic} isn't pretty", "Scroll past if you don't care "
                     "about {topic}", "Ignore this if you hate {topic}", "Nobody ever likes my posts about {topic}, "
                     "can I get a like?", "It's my birthday and nobody wished me. Can I get a like?",
                     "Keep scrolling if you don't support {group}"],
}

# Clickbait as it appears in feeds (emoji, caps, arrows), not only newspaper headlines.
SOCIAL_CLICKBAIT = {
    "wont-believe": ["You won't BELIEVE what {topic} did next", "You'll never guess what happened to {topic}",
                     "What happened next with {topic} will shock you", "I can't believe what {topic} just did"],
    "number-list": ["{n} things about {topic} nobody tells you. Number 7 will shock you!",
                    "{n} signs you're one of the {group}. #4 is so true", "Top {n} secrets about {topic} revealed"],
    "hate-him": ["Nutritionists HATE him! Here's why", "Dentists hate this one simple trick", "This one weird trick about "
                 "{topic} changes everything", "Banks don't want you to know this trick",
                 "Lawyers HATE her! Find out why", "Personal trainers hate this 30-second trick",
                 "Landlords hate him for this simple hack", "Pharmacies HATE this. Click to see",
                 "Why the experts HATE what {topic} did"],
    "link-tease": ["See what happened 👉 link in bio", "The ending about {topic}… link in comments",
                   "Full story in the first comment", "Watch till the end, you won't regret it",
                   "Click the link to see the photos of {topic}"],
    "emoji-tease": ["OMG look at {topic} 😱😱 👉", "WAIT FOR IT… 😳", "This is INSANE 🤯 see the comments",
                    "Nobody is talking about this 👀👇", "I was NOT ready for this 😭 link below",
                    "You need to see {topic} RIGHT NOW 😲"],
    "reveal": ["The truth about {topic} finally revealed", "Nobody expected {topic} to look like this now",
               "This is why {topic} is trending", "Wait until you see {topic} in 2026"],
}

# Manufactured urgency and scarcity in posts (the dark-patterns strings are shop banners).
FALSE_URGENCY = {
    "act-now": ["Act NOW before it's too late!", "Last chance! Ends at {hours}", "Hurry, only {n} left!",
                "Offer expires in {hours}. Don't miss out", "Time is running out on {topic}, act now",
                "This will be gone by {hours}. Move fast"],
    "everyone-buying": ["Everyone is buying this, get yours before it sells out", "Thousands already joined, "
                        "don't be left behind", "Selling out fast! {n}00 sold in the last hour",
                        "Only {n} spots left for {topic}. Hurry!"],
}

# Provocation: lines written to make the reader angry at someone (us versus them, contempt, "they mock you"), the
# intent no third-party set labels. Rage-bait positives; also appended to by a share-before-they-delete line.
PROVOCATION = {
    "they-mock-you": ["They laugh at people like you every day", "They think you're too stupid to notice",
                      "This is what they really think of people like you", "They are mocking you and you still "
                      "vote for them", "They hate you and they're not even hiding it anymore"],
    "they-take": ["While you struggle, they fly private jets on your money", "Your taxes paid for THIS. Angry yet?",
                  "They get richer while you pay for everything", "Politicians are spitting in your face again",
                  "They're coming for {topic} next, and they think it's funny"],
    "contempt": ["Look at these clowns in charge, they don't care about {group}", "Imagine being this stupid. "
                 "These people vote.", "Every single one of them is a traitor", "These idiots want to ruin "
                 "everything {group} built", "People like this are why we can't have nice things"],
}
# appended to a provocation line (the meme pattern: anger, then a reason to share it fast)
PROVOCATION_BAIT = ["Share this before it disappears", "Share if you're angry too", "Spread this everywhere",
                    "Repost before they take it down", "Tag everyone who needs to wake up"]

# Ordinary posts that use the same words (share, comment, follow, like, vote, link, part 2) innocently.
HARD_NEGATIVES = [
    "Thanks everyone who shared their comments at the town hall last night.",
    "The council will vote on the bike lane proposal on Tuesday.",
    "Follow-up from yesterday: the bridge reopens on Monday morning.",
    "I like how {topic} turned out, the colour is better than I expected.",
    "Part 2 of the report covers the water quality results for the lake.",
    "Our paper is out, link to the preprint below. Comments welcome by email.",
    "Tagging the photographer who took this: thank you for the lovely pictures.",
    "We shared a pizza and watched the match, great evening.",
    "The survey closes on Friday; it takes about five minutes.",
    "Comments on the draft are due by the end of the month.",
    "My daughter voted for the first time today and she was so proud.",
    "Here is the recipe for {topic}, as promised: flour, water, salt and time.",
    "Reminder: the library is closed for the holiday on Thursday.",
    "If you liked the first book, the sequel is even better in my opinion.",
    "Shared office space downtown has two desks free from January.",
    "The giveaway boxes for the food bank are ready for pick-up at 5 pm.",
    "Do you remember {topic}? I found an old photo of it in the attic.",
    "The match was cancelled because of the rain, the replay is next week.",
    "Our store is closing early on Sunday for stock-taking.",
    "Went for a run with {topic} this morning, 5 km in the cold.",
    "Please comment on the pull request if the tests fail on your machine.",
    "The new timetable starts next week; trains every 15 minutes.",
    "Grateful for the nurses who looked after my mum this week.",
    "Which would you choose for a first bike, steel or aluminium? Genuinely asking.",
    # the words of clickbait and rage-bait, said innocently (a casual "hate", caps of joy, people laughing)
    "I hate Mondays so much 😂",
    "My kids hate broccoli, any tips for getting them to eat it?",
    "Cats HATE baths and mine is no exception",
    "I HATE it when the wifi drops in the middle of a call",
    "SO EXCITED FOR THE WEEKEND!!!",
    "WE WON THE CUP!!! What a night 🎉",
    "Doctors say flu season starts early this year, so get your shot.",
    "Everyone laughed at my dad's joke at dinner, proud moment",
    "Delete the old backups before the disk fills up.",
    "We are all so proud of {topic} today!",
    "The experts at the museum explained how the old clock works.",
    "See you all at the market on Saturday 👋",
]


# Issue 13's own examples of misjudged posts (and the meme's lines): never training data, so that the tests
# which check them (tests/host/judge_quality.rs, cli.rs) measure generalisation. own_examples() drops any
# written row that contains one of them (compared lower-case, letters and digits only).
ISSUE_EXAMPLES = ["You won't BELIEVE… Number 7 will shock you!", "Doctors HATE him! See why 👉",
                  "These idiots in parliament… Share before they delete this!!!", "THEY ARE LAUGHING AT YOU",
                  "SHARE BEFORE THEY DELETE IT", "You Won't Believe What This Dog Did Next"]


def _norm(s: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in s.lower()).split())


def contains_issue_example(text: str) -> bool:
    """Whether a written line contains one of ISSUE_EXAMPLES (compared lower-case, letters and digits only)."""
    return any(_norm(x) in _norm(text) for x in ISSUE_EXAMPLES)


# Genuine questions, as forums and community feeds ask them: not clickbait, although clickbait headlines are often
# questions too ("Can you guess…?"). How-to and advice questions are not engagement bait either; open discussion
# questions ("what would you…") are left unlabelled for engagement bait, which they can shade into.
QUESTIONS_HOWTO = [
    "How do I get my sourdough starter to rise more?", "Has anyone tried the new bus route to the airport?",
    "Which laptop would you recommend for a student on a budget?", "Is it normal for {topic} to sleep this much?",
    "What's the best way to clean a cast iron pan?", "Does anyone know a good plumber in the north end?",
    "How long does it take to get a passport renewed these days?", "Can I plant tomatoes this late in the season?",
    "Why does my phone battery drain so fast after the update?", "Where can I recycle old paint in town?",
    "Any tips for a first-time marathon runner?", "Should I learn Python or JavaScript first?",
    "What time does the farmers market open on Sundays?", "How do you keep {topic} warm in winter?",
]
QUESTIONS_DISCUSSION = [
    "What advice would you give your younger self?", "What's a book that changed how you think?",
    "What is something you learned too late in life?", "Which film do you watch again every year?",
    "What's the most underrated city you've visited?", "What hobby did you pick up this year?",
    "What's a small thing that makes your day better?", "Which job would you do if money didn't matter?",
    "What is the best meal you've ever cooked?", "What did your grandparents teach you that still matters?",
]


def own_examples() -> list[tuple[str, str, int, str]]:
    """(text, task, label, group) rows; group = "<task>/<family>/<template>" for splitting by template."""
    rng = random.Random(SEED)
    rows: list[tuple[str, str, int, str]] = []
    for family, templates in ENGAGEMENT_BAIT.items():
        for t in templates:
            for k in range(8):
                text = _fill(rng, t)
                if k % 2:  # half of them follow something the post says first
                    text = _fill(rng, rng.choice(OPENERS)) + rng.choice([" ", "\n\n", "\n"]) + text
                rows.append((text, "engagement-bait", 1, f"engagement-bait/{family}/{templates.index(t)}"))
    for family, templates in SOCIAL_CLICKBAIT.items():
        for t in templates:
            for _ in range(8):
                rows.append((_fill(rng, t), "social-clickbait", 1, f"social-clickbait/{family}/{templates.index(t)}"))
    for family, templates in FALSE_URGENCY.items():
        for t in templates:
            for _ in range(8):
                rows.append((_fill(rng, t), "false-urgency", 1, f"false-urgency/{family}/{templates.index(t)}"))
    for family, templates in PROVOCATION.items():
        for t in templates:
            for k in range(8):
                text = _fill(rng, t)
                kind = "provocation"
                if k % 2:  # half of them end with a reason to share it now
                    text = text + rng.choice([" ", "\n", "!\n"]) + _fill(rng, rng.choice(PROVOCATION_BAIT))
                    kind = "provocation-bait"
                rows.append((text, kind, 1, f"provocation/{family}/{templates.index(t)}"))
    for kind, questions in (("question-howto", QUESTIONS_HOWTO), ("question-discussion", QUESTIONS_DISCUSSION)):
        for i, t in enumerate(questions):
            for _ in range(3):
                rows.append((_fill(rng, t), kind, 0, f"{kind}/{i}"))
    for i, t in enumerate(HARD_NEGATIVES):
        for _ in range(4):
            rows.append((_fill(rng, t), "hard-negative", 0, f"hard-negative/{i}"))
    # unique texts, first-seen order, none containing an issue example
    seen: set[str] = set()
    out = []
    for r in rows:
        if contains_issue_example(r[0]):
            continue
        if r[0] not in seen:
            seen.add(r[0])
            out.append(r)
    return out


# "<Profession> HATE him! See why 👉", generated from its parts for the judge's head refit
# (models/scripts/refit_heads.py), not for fine-tuning: the fine-tuned data above holds only a handful of these
# lines, and the judge let the form through ("Lawyers HATE him! See why" was rage-bait 0.82, clickbait 0.06). The
# professions are split in two: the refit sees HATE_HIM_FIT_PROFESSIONS only, HATE_HIM_PROBE_PROFESSIONS measure
# whether it learnt the form rather than the words. "Doctor" appears in neither, so that issue 13's own example
# stays unseen.
HATE_HIM_FIT_PROFESSIONS = [
    "Nutritionists", "Dentists", "Lawyers", "Landlords", "Bankers", "Personal trainers", "Dermatologists",
    "Mechanics", "Realtors", "Plumbers", "Chefs", "Vets", "Opticians", "Accountants", "Pharmacists", "Barbers",
    "Gyms", "Insurance companies"]
HATE_HIM_PROBE_PROFESSIONS = ["Nurses", "Teachers", "Electricians", "Hairdressers", "Cardiologists", "Car dealers",
                              "Airlines"]
HATE_HIM_TARGETS = ["him", "her", "this mom", "this dad", "this guy", "this woman", "this trick", "them",
                    "this app"]
HATE_HIM_VERBS = ["HATE", "hate", "can't stand", "are furious at", "HATE"]
HATE_HIM_CALLS = ["See why 👉", "Here's why", "Find out why 👇", "Click to see", "Watch 👇", "Learn the trick",
                  "", "Read more 👉", "(see comments)", "Link in bio"]


def hate_him_examples(professions: list[str], n: int, seed: str) -> list[str]:
    """n distinct "<profession> <verb> <target>! <call>" lines (30 % in capitals), sorted; deterministic."""
    rng = random.Random(f"{SEED}/hate-him/{seed}")
    out: set[str] = set()
    while len(out) < n:
        s = f"{rng.choice(professions)} {rng.choice(HATE_HIM_VERBS)} {rng.choice(HATE_HIM_TARGETS)}!"
        s = f"{s} {rng.choice(HATE_HIM_CALLS)}".strip()
        if rng.random() < 0.3:
            s = s.upper()
        if not contains_issue_example(s):
            out.add(s)
    return sorted(out)


# Ordinary titles of community posts (show-and-tell pictures, projects, pets, places, game clips, forum
# discussion questions), generated from their parts for the judge's head refit (models/scripts/refit_heads.py):
# the clickbait head learnt from newspaper headlines vs BuzzFeed-style headlines that a short informal title is
# clickbait, and labelled Reddit titles such as "My friend made a cat pancake" or "Breakfast Burritos". These say
# what the post shows; clickbait withholds it. Written after reading the judge's labels on the captured Reddit
# listings (so those listings are not a clean held-out measure of this change), in words of the project's own: no
# captured title is copied. Templates are split in two by ORDINARY_TITLE_PROBE: the refit fits the others, the
# probe templates measure whether it learnt the form.
TITLE_PARTS = {
    "relative": ["friend", "wife", "husband", "daughter", "son", "grandma", "grandpa", "dad", "mom", "sister",
                 "brother", "neighbour", "roommate", "uncle", "girlfriend", "boyfriend", "coworker", "niece"],
    "dish": ["a panda pancake", "breakfast tacos", "a three-layer chocolate cake", "sourdough bread", "ramen from "
             "scratch", "a lasagna", "cinnamon rolls", "homemade pizza", "a pumpkin pie", "dumplings", "a Lego cake",
             "pierogi", "a Totoro bento", "macarons", "tamales", "a gingerbread house", "bagels", "beef stew"],
    "craft": ["a bookshelf", "a quilt", "a wooden chess set", "this lamp", "a bird house", "a Zelda sweater",
              "a coffee table", "a Death Star out of cardboard", "a ceramic mug", "a tiny house for my hamster",
              "a mechanical keyboard", "a stained glass window", "a knife", "this costume", "a model railway"],
    "duration": ["two years", "six months", "three weekends", "a year", "400 hours", "a month", "ten years"],
    "pet": ["cat", "dog", "puppy", "kitten", "parrot", "rabbit", "hamster", "tortoise", "corgi", "husky",
            "rescue greyhound", "ferret", "goldfish"],
    "pet_act": ["fell asleep in the laundry basket", "refuses to get off my laptop", "meeting the new kitten",
                "on his first day home", "after her first bath", "guarding the Christmas tree", "turned 15 today",
                "learned to open the fridge", "in his Halloween costume", "waiting for dinner", "stuck in a box",
                "sleeping in the weirdest position", "saw snow for the first time"],
    "place": ["Lake Tahoe", "the Scottish Highlands", "Kyoto", "Yosemite", "our backyard", "the Oregon coast",
              "downtown Chicago", "the Dolomites", "my street", "Banff", "Lisbon", "the Grand Canyon", "Iceland"],
    "daytime": ["sunset", "dawn", "night", "golden hour", "midnight", "sunrise", "dusk"],
    "when": ["today", "last night", "this morning", "yesterday", "this weekend", "last summer", "in 2009"],
    "found": ["an old Game Boy", "a letter from 1962", "a fossil", "a hidden room", "my first drawing",
              "a 1970s Sears catalogue", "a ring", "a tiny frog", "a message in a bottle", "my dad's old camera"],
    "found_place": ["my grandma's attic", "the garden", "a thrift store", "the wall of our house", "the beach",
                    "an old jacket", "the basement", "a used book"],
    "game": ["Far Cry 3", "Skyrim", "Minecraft", "Elden Ring", "GTA V", "Zelda", "Fortnite", "Overwatch",
             "Stardew Valley", "League of Legends", "Rocket League"],
    "clip": ["thought you would enjoy this one", "my best play so far", "finally beat this boss",
             "found this bug", "my base after 200 hours", "the physics in this game", "a clean triple kill",
             "first win with my friends", "this view"],
    "thing": ["movie", "book", "album", "meal", "video game", "piece of advice", "job", "trip", "gift", "purchase"],
    "verb": ["watched", "read", "had", "played", "received", "made", "bought"],
    "people": ["Teachers", "Nurses", "Programmers", "Parents", "Night shift workers", "Chefs", "Truck drivers",
               "Introverts", "Pilots", "Librarians", "Gamers", "Dog owners"],
    "topic_q": ["the strangest thing a customer said to you", "the best part of your job",
                "something you wish people knew", "the worst advice you got when you started",
                "a habit you picked up from work", "your favourite story from this year"],
    "experience": ["moved abroad", "quit a stable job", "learned a language as an adult", "were cheated on",
                   "switched careers at 40", "lived on a boat", "ran a marathon", "grew up without internet"],
}
ORDINARY_TITLES = {
    "made": ["My {relative} made {dish}", "I made {craft} for my {relative}", "First attempt at {dish}",
             "Made {dish} for the first time, how did I do?", "My {relative} made {craft}"],
    "project": ["Finally finished {craft} after {duration}", "{duration} of weekends later, {craft} is done",
                "Built {craft} out of scrap wood", "I made {craft} in my woodworking class"],
    "pet": ["My {pet} {pet_act}", "Our {pet} {pet_act}", "This is my {pet}, she {pet_act}",
            "My {relative}'s {pet} {pet_act}"],
    "place": ["{place} at {daytime} [OC]", "Took this picture of {place} {when}", "View from my hike in {place}",
              "{place} at {daytime}", "Went to {place} {when}, it did not disappoint"],
    "found": ["Found {found} in {found_place}", "Found {found} in {found_place} {when}",
              "Look what I found in {found_place}"],
    "noun": ["{Dish}", "{Dish} for breakfast", "{Place} at {daytime}", "{Craft}, {duration} in the making"],
    "game": ["[{game}] {clip}", "{game}: {clip}", "[{game}] {when}, {clip}"],
    "question": ["What's the best {thing} you've ever {verb}?", "{people} of Reddit, what is {topic_q}?",
                 "People who {experience}, how did it go?", "What {thing} would you recommend to a friend?",
                 "Redditors who {experience}, what surprised you most?", "What was {topic_q}?"],
}
ORDINARY_TITLE_PROBE = {"made": [4], "project": [3], "pet": [3], "place": [4], "found": [2], "noun": [3],
                        "game": [2], "question": [4, 5]}


def ordinary_titles(n: int, which: str) -> list[str]:
    """n distinct ordinary community-post titles from the "fit" or "probe" templates, sorted; deterministic."""
    templates = [t for fam, ts in ORDINARY_TITLES.items() for i, t in enumerate(ts)
                 if (i in ORDINARY_TITLE_PROBE.get(fam, [])) == (which == "probe")]
    rng = random.Random(f"{SEED}/ordinary-titles/{which}")

    def part(m: re.Match) -> str:
        key = m.group(1)
        word = rng.choice(TITLE_PARTS[key.lower()])
        return word[0].upper() + word[1:] if key[0].isupper() else word

    out: set[str] = set()
    while len(out) < n:
        s = re.sub(r"\{(\w+)\}", part, rng.choice(templates))
        s = s[0].upper() + s[1:]
        if rng.random() < 0.1:
            s = s.lower()
        if not contains_issue_example(s):
            out.add(s)
    return sorted(out)


if __name__ == "__main__":
    from collections import Counter
    ex = own_examples()
    print(Counter(r[1] for r in ex))
    for r in ex[::60]:
        print(r)
