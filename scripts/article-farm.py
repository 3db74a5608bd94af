#!/usr/bin/env python3
"""Give every item of a generated feed farm an article page, served by the same loopback nginx.

Usage: scripts/article-farm.py WWW

WWW is the farm's web root (the folder holding feeds/ and manifest.json, as
../shared/bench/feedfarm/gen.py writes it). Each item's link (http://127.0.0.1:18080/site/...)
gets an HTML page at the matching path under WWW: a news site's frame (navigation, share
buttons, related links, footer) around the item's title, its summary and eight to twelve more
paragraphs. About one page in five names, in a late paragraph, a term the feed's summary lacks
("export controls on Tehran"), so an article step has watches to add. Deterministic: the page
of an item depends only on its link. Prints how many pages were written and their total size.
"""

import hashlib
import html
import os
import re
import sys

SENTENCES = [
    "Officials familiar with the talks said a draft text had been circulated to delegations on Sunday.",
    "The ministry declined to comment on the timing of the announcement.",
    "Analysts said the move was likely to weigh on regional trade in the coming months.",
    "Opposition lawmakers demanded that the agreement be put before parliament.",
    "Diplomats said the wording of the final communique was still being negotiated late into the night.",
    "Markets in the region were little changed after the news, with the currency steady against the dollar.",
    "A spokesperson for the presidency said further details would be published next week.",
    "Human rights groups said the measures did not go far enough to protect civilians.",
    "The central bank said it was monitoring the situation closely and stood ready to act.",
    "Local media reported long queues at border crossings as the new rules took effect.",
    "Several governments have called for an independent inquiry into the incident.",
    "The company said in a statement that it complied with all applicable laws.",
    "Negotiators are due to meet again before the end of the month, according to a schedule seen by reporters.",
    "Residents described hearing loud explosions shortly before dawn.",
    "The deal still requires approval from the finance committee and a vote in the upper house.",
    "Shipping data showed at least four tankers had changed course in the past week.",
]
ADDED = [
    "Late on Friday the agency also announced new export controls on Tehran, covering dual-use electronics.",
    "The same document lists two shipping companies accused of helping Pyongyang evade the MSMT panel's findings.",
    "A separate annex tightens export controls on Tehran's drone programme, officials said.",
]
FRAME_TOP = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Farm Daily</title>
<meta property="og:title" content="{title}"><link rel="stylesheet" href="/static/site.css"></head>
<body><header class="masthead"><a href="/">Farm Daily</a><nav><ul><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/politics">Politics</a></li><li><a href="/science">Science</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<main><article><h1>{title}</h1><p class="byline">By Farm Daily staff</p>
<div class="share"><a href="#">Share</a> <a href="#">Email</a> <a href="#">Print</a></div>
<div class="article-body">
"""
FRAME_BOTTOM = """</div></article>
<aside class="related"><h2>Most read</h2><ul><li><a href="/a">Markets close higher on rate hopes</a></li>
<li><a href="/b">Storm warning issued for the coast</a></li><li><a href="/c">Ten things to know this week</a></li></ul></aside>
</main><footer><p>Copyright Farm Daily. All rights reserved.</p><p><a href="/privacy">Privacy</a>
<a href="/terms">Terms</a> <a href="/cookies">Cookie settings</a></p></footer></body></html>
"""

RSS_ITEM = re.compile(r"<item>.*?<title>(.*?)</title>\s*<link>(.*?)</link>.*?<description>(.*?)</description>", re.S)
ATOM_ENTRY = re.compile(
    r"<entry>.*?<title>(.*?)</title>.*?<link rel=\"alternate\" type=\"text/html\" href=\"(.*?)\"/>.*?"
    r"<summary type=\"html\">(.*?)</summary>",
    re.S,
)
TAG = re.compile(r"<[^>]+>")


def items(path):
    text = open(path, encoding="utf-8").read()
    for title, link, summary in (ATOM_ENTRY if path.endswith(".atom") else RSS_ITEM).findall(text):
        # Titles and links are escaped once; summaries are escaped HTML.
        yield html.unescape(title), html.unescape(link), TAG.sub(" ", html.unescape(html.unescape(summary)))


def digest(text):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def page(title, link, summary):
    seed = digest(link)
    paragraphs = [summary.strip()]
    for p in range(8 + seed % 5):
        bits = digest("%s#%d" % (link, p))
        paragraphs.append(" ".join(SENTENCES[(bits >> (4 * k)) % len(SENTENCES)] for k in range(3)))
    if seed % 5 == 0:
        paragraphs.insert(len(paragraphs) - 2, ADDED[seed // 5 % len(ADDED)])
    body = "".join("<p>%s</p>\n" % html.escape(p) for p in paragraphs)
    return FRAME_TOP.format(title=html.escape(title)) + body + FRAME_BOTTOM


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    www = sys.argv[1]
    feeds = os.path.join(www, "feeds")
    written = size = 0
    for name in sorted(os.listdir(feeds)):
        for title, link, summary in items(os.path.join(feeds, name)):
            path = re.sub(r"^https?://[^/]+/", "", link)
            target = os.path.join(www, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            text = page(title, link, summary).encode()
            with open(target, "wb") as f:
                f.write(text)
            written += 1
            size += len(text)
    print("article-farm: %d pages, %.1f MiB" % (written, size / 1048576))


if __name__ == "__main__":
    main()
