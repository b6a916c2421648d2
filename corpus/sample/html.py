"""HTML layouts of the sample: a clean article page, and the boilerplate real sites wrap around
content (navigation, cookie banners, newsletter boxes, sidebars, footers) in varying amounts."""

from __future__ import annotations

import random
from html import escape

NAV = {
    "en": ["Home", "News", "Features", "Opinion", "Guides", "Community", "Shop", "About us", "Contact"],
    "de": ["Startseite", "Aktuelles", "Ratgeber", "Meinung", "Kontakt", "Impressum"],
    "fr": ["Accueil", "Actualités", "Guides", "Opinions", "Contact", "Mentions légales"],
    "es": ["Inicio", "Noticias", "Guías", "Opinión", "Contacto"],
    "it": ["Home", "Notizie", "Guide", "Opinioni", "Contatti"],
    "pt": ["Início", "Notícias", "Guias", "Opinião", "Contacto"],
    "nl": ["Home", "Nieuws", "Gidsen", "Opinie", "Contact"],
    "ru": ["Главная", "Новости", "Статьи", "Мнения", "Контакты"],
    "zh": ["首页", "新闻", "生活", "评论", "联系我们"],
    "ja": ["ホーム", "ニュース", "特集", "コラム", "お問い合わせ"],
    "ko": ["홈", "뉴스", "생활", "칼럼", "문의"],
}
COOKIE_BANNERS = [
    "We use cookies to improve your experience, to personalise content and ads and to analyse our "
    "traffic. By clicking Accept all you agree to the storing of cookies on your device. "
    "Accept all | Reject all | Cookie settings",
    "This website uses cookies. Some are essential, others help us understand how you use the site. "
    "You can change your preferences at any time. OK | Manage preferences | Privacy policy",
]
NEWSLETTER = (
    "Subscribe to our newsletter! Get the best stories delivered to your inbox every week. "
    "Enter your email address. Sign up. No spam, unsubscribe at any time."
)
FOOTER_LINKS = [
    "Privacy policy",
    "Terms of use",
    "Cookie settings",
    "Accessibility",
    "Careers",
    "Advertise",
    "Sitemap",
    "Help",
    "Press",
    "Imprint",
]
SHARE = "Share on Facebook | Share on X | Share by email | Print | Copy link"


def _links(items: list[str], cls: str) -> str:
    lis = "".join(f'<li><a href="/{escape(i.lower().replace(" ", "-"))}">{escape(i)}</a></li>' for i in items)
    return f'<ul class="{cls}">{lis}</ul>'


def document(title: str, body: str, lang: str, meta_charset: str | None = None) -> str:
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>{meta}<title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def paragraphs_html(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def article(
    site: str,
    title: str,
    body_html: str,
    lang: str,
    date: str,
    rng: random.Random,
    boilerplate: int = 1,
    related: list[str] | None = None,
    meta_charset: str | None = None,
) -> str:
    """A page with ``body_html`` as its main content and boilerplate level 0 (none) to 3 (the
    content is a small part of the page)."""
    nav = NAV.get(lang, NAV["en"])
    parts = []
    if boilerplate >= 1:
        parts.append(
            f'<header><a class="logo" href="/">{escape(site)}</a><nav>{_links(nav, "menu")}</nav></header>'
        )
    if boilerplate >= 2:
        parts.append(
            f'<div class="cookie-banner" role="dialog"><p>{escape(rng.choice(COOKIE_BANNERS))}</p></div>'
        )
        parts.append(f'<div class="breadcrumbs">{" &rsaquo; ".join(escape(n) for n in nav[:3])}</div>')
    parts.append(
        f'<main><article><h1>{escape(title)}</h1><p class="byline">{escape(date)}</p>\n{body_html}\n'
        + (f'<div class="share">{escape(SHARE)}</div>' if boilerplate >= 2 else "")
        + "</article></main>"
    )
    if boilerplate >= 2 and related:
        parts.append(f"<aside><h2>Popular now</h2>{_links(related, 'related')}</aside>")
    if boilerplate >= 3:
        parts.append(f'<aside class="newsletter"><p>{escape(NEWSLETTER)}</p></aside>')
        parts.append(
            f'<aside class="ads"><p>Advertisement</p>{_links(rng.sample(FOOTER_LINKS, 5), "sponsored")}</aside>'
        )
        parts.append(f'<nav class="tags">{_links(rng.sample(nav, min(5, len(nav))), "tags")}</nav>')
    if boilerplate >= 1:
        links = _links(FOOTER_LINKS if boilerplate >= 2 else FOOTER_LINKS[:3], "footer-links")
        parts.append(f"<footer>{links}<p>&copy; 2024 {escape(site)}. All rights reserved.</p></footer>")
    return document(title, "\n".join(parts), lang, meta_charset)


def code_body(intro: str, blocks: list[tuple[str, str]], outro: str) -> str:
    codes = "\n".join(
        f'<pre><code class="language-{lang}">{escape(code)}</code></pre>' for lang, code in blocks
    )
    return f"<p>{escape(intro)}</p>\n{codes}\n<p>{escape(outro)}</p>"


def forum(site: str, title: str, comments: list[tuple[str, str]], page: int, rng: random.Random) -> str:
    posts = "\n".join(
        f'<div class="post"><div class="author">{escape(user)}</div><div class="meta">Posted {rng.randint(1, 28)} '
        f'days ago &middot; #{i + 1 + 10 * page}</div><div class="message"><p>{escape(text)}</p></div>'
        f'<div class="actions">Reply | Quote | Report</div></div>'
        for i, (user, text) in enumerate(comments)
    )
    body = (
        f'<header><a href="/">{escape(site)} forum</a>{_links(["Forums", "Search", "Log in", "Register"], "menu")}</header>'
        f'<main><h1>{escape(title)}</h1><div class="pages">Page {page + 1} of 3</div>{posts}</main>'
        f"<footer>{_links(FOOTER_LINKS[:4], 'footer-links')}</footer>"
    )
    return document(title, body, "en")


def listing(site: str, title: str, teasers: list[tuple[str, str]], rng: random.Random) -> str:
    """A category page: titles with one-line teasers, heavy navigation, little content."""
    items = "".join(
        f'<li><a href="/{rng.randint(1000, 9999)}">{escape(t)}</a><p>{escape(s)}</p></li>' for t, s in teasers
    )
    body = (
        f"<header><nav>{_links(NAV['en'], 'menu')}</nav></header>"
        f'<div class="cookie-banner"><p>{escape(rng.choice(COOKIE_BANNERS))}</p></div>'
        f"<main><h1>{escape(title)}</h1><ul>{items}</ul><div>Page 1 2 3 4 5 Next</div></main>"
        f"<footer>{_links(FOOTER_LINKS, 'footer-links')}<p>&copy; 2024 {escape(site)}</p></footer>"
    )
    return document(title, body, "en")
