"""Plain text out of the documentation formats the training corpus is made of.

Each converter takes the file's text and returns prose with paragraphs separated by blank
lines: markup is dropped, the words it marks are kept. None of them tries to be a faithful
renderer; they only have to leave English a reader would recognise, without tags, directives
or formatting codes that would teach the memory a format instead of a language.
"""

import gzip
import html
import html.parser
import re

BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "table", "tr", "blockquote", "section", "article", "hr", "title", "figcaption",
}  # fmt: skip
SKIP_TAGS = {"script", "style", "nav", "head", "noscript", "svg", "button", "form", "footer", "header"}
SKIP_CLASSES = (
    "sphinxsidebar",
    "related",
    "navigation",
    "navbar",
    "breadcrumb",
    "toc",
    "footer",
    "headerlink",
)


class _HtmlText(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.skip = []  # stack of tags whose content is skipped
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.append(tag)
            return
        # Whole class/id/role words only ("toc", not the "toc" of "protocol"), and never the
        # page itself (a <body class="toc2"> still holds the text).
        names = {w for k, v in attrs if k in ("class", "id", "role") for w in (v or "").split()}
        skip_named = tag not in ("html", "body", "main") and not names.isdisjoint(SKIP_CLASSES)
        if tag in SKIP_TAGS or skip_named:
            if tag not in ("br", "hr", "img", "input", "meta", "link"):
                self.skip.append(tag)
            return
        if tag == "pre":
            self.pre += 1
        if tag in BLOCK_TAGS:
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in BLOCK_TAGS:
            self.out.append("\n\n")

    def handle_data(self, data):
        if self.skip:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(text):
    """The visible text of an HTML page, without navigation, scripts and styles."""
    p = _HtmlText()
    p.feed(text)
    p.close()
    return tidy("".join(p.out))


RST_DIRECTIVE = re.compile(r"^\s*\.\. [\w:-]+::.*$|^\s*\.\. _[^:]+:.*$|^\s*\.\. \|[^|]+\|.*$")
RST_OPTION = re.compile(r"^\s+:[\w-]+:.*$")
RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+<>_:.])\1{2,}\s*$")
RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_{1,2}")
RST_COMMENT = re.compile(r"^\.\.(\s.*)?$")


def rst_to_text(text):
    """reStructuredText (or Sphinx ``_sources/*.txt``) without directives, roles and underlines."""
    out = []
    for line in text.splitlines():
        if RST_UNDERLINE.match(line) or RST_DIRECTIVE.match(line) or RST_OPTION.match(line):
            continue
        if RST_COMMENT.match(line):
            continue
        line = RST_ROLE.sub(r"\1", line)
        line = RST_LINK.sub(r"\1", line)
        line = re.sub(r"``([^`]+)``", r"\1", line)
        line = re.sub(r"`([^`]+)`_{0,2}", r"\1", line)
        line = re.sub(r"\*\*([^*]+)\*\*", r"\1", line)
        out.append(line)
    return tidy("\n".join(out))


POD_CODE = re.compile(r"[A-Z]<<+\s+(.*?)\s+>>+|[A-Z]<([^<>]*)>", re.S)


def pod_to_text(text):
    """Perl POD: headings keep their words, formatting codes their content, commands go."""
    out = []
    in_pod = True
    skipping = False  # inside =begin/=end of a non-text format
    for line in text.splitlines():
        if line.startswith("="):
            cmd, _, rest = line[1:].partition(" ")
            if cmd == "cut":
                in_pod = False
            elif cmd in ("pod", "encoding"):
                in_pod = True
            elif cmd == "begin":
                skipping = not rest.strip().startswith("text")
            elif cmd == "end":
                skipping = False
            elif cmd.startswith("head") or cmd == "item":
                in_pod = True
                out += ["", rest.strip(), ""]
            elif cmd in ("over", "back", "for"):
                in_pod = True
            continue
        if in_pod and not skipping:
            out.append(line)
    body = "\n".join(out)
    # Escapes first, held as placeholders so that a "<" they stand for cannot end a code.
    body = re.sub(r"E<(\w+)>", lambda m: f"\x00{m.group(1)}\x00", body)
    for _ in range(3):  # nested codes such as B<C<...>>
        body = POD_CODE.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), body)
    body = re.sub(r"\x00(\w+)\x00", lambda m: _pod_escape(m.group(1)), body)
    return tidy(body)


def _pod_escape(name):
    if name.isdigit():
        return chr(int(name))
    if name.startswith("0x"):
        return chr(int(name, 16))
    return {"verbar": "|", "sol": "/"}.get(name) or html.unescape(f"&{name};")


def info_to_text(text):
    """GNU Info: node headers, menus and the tag table dropped."""
    out = []
    for node in text.split("\x1f"):
        lines = node.strip("\n").splitlines()
        if not lines or lines[0].startswith(("Tag Table:", "End Tag Table", "Indirect:")):
            continue
        if lines[0].startswith("File:"):
            lines = lines[1:]
        keep, in_menu = [], False
        for line in lines:
            if line.startswith("* Menu:"):
                in_menu = True
                continue
            if in_menu and (line.startswith("* ") or not line.strip()):
                continue
            in_menu = False
            if re.match(r"^[*=\-.]{3,}\s*$", line):
                continue
            keep.append(line)
        out.append("\n".join(keep))
    return tidy("\n\n".join(out))


ROFF_KEEP = {".SH", ".SS", ".B", ".I", ".BR", ".IR", ".RB", ".RI", ".BI", ".IB", ".TP", ".IP", ".SM", ".SB"}
ROFF_BREAK = {".PP", ".P", ".LP", ".sp", ".br", ".TP", ".IP", ".SH", ".SS", ".RS", ".RE", ".nf", ".fi"}
ROFF_NAMED = {
    "em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d", "bu": "\u2022",
}  # fmt: skip
ROFF_ESCAPE = re.compile(r"\\f(?:\(..|\[[^]]*\]|.)|\\\((..)|\\\[([^]]*)\]|\\\*(?:\(..|\[[^]]*\]|.)|\\(.)")


def _roff_escape(m):
    named = m.group(1) or m.group(2)
    if named is not None:
        return ROFF_NAMED.get(named, "")
    ch = m.group(3)
    if ch is None:  # a font change or a string
        return ""
    return {"-": "-", "e": "\\", "&": "", "|": "", "^": "", " ": " ", "~": " ", "c": "", '"': ""}.get(ch, ch)


def man_to_text(text):
    """A man page (roff with the man macros): the words of its text and headings."""
    out = []
    for line in text.splitlines():
        if line.startswith(('.\\"', "'\\\"")) or line in (".", "'"):  # comments, empty requests
            continue
        if line.startswith((".", "'")):
            request, _, args = line.partition(" ")
            if request in ROFF_BREAK:
                out.append("")
            if request not in ROFF_KEEP or not args.strip():
                continue
            line = args.replace('"', "")
            if request == ".IP":  # ".IP tag indent": the indent is layout
                line = re.sub(r"\s+\d+(\.\d+)?[nmi]?\s*$", "", line)
        out.append(ROFF_ESCAPE.sub(_roff_escape, line))
    return tidy("\n".join(out))


def plain_to_text(text):
    return tidy(text)


CONVERTERS = {
    "man": man_to_text,
    "html": html_to_text,
    "rst": rst_to_text,
    "pod": pod_to_text,
    "info": info_to_text,
    "text": plain_to_text,
}


def decode(data: bytes, name: str) -> str:
    """Bytes of a file (gunzipped when ``name`` ends in .gz or .dz) as text (UTF-8, else Latin-1)."""
    if name.endswith((".gz", ".dz")):  # .dz: dictzip, gzip with an index
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def tidy(text):
    """Unix newlines, no trailing spaces, at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n" if text.strip() else ""


STOPWORDS = frozenset(
    "the of and to a in is that it for as with be on by this are or not an at from which can you "
    "if was have will but all its they has one there their more when so these also may only been "
    "other such into than then them some what would any each".split()
)


def english_share(text):
    """Share of the words of ``text`` that are common English function words (~0.3-0.5 in
    English prose, near 0 in other languages, code and tables)."""
    words = re.findall(r"[A-Za-z]+", text[:200_000].lower())
    if not words:
        return 0.0
    return sum(w in STOPWORDS for w in words) / len(words)
