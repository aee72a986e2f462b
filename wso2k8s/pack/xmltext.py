"""Edit an XML file as text, so the result differs from the original only where a value was set.

A serializer (lxml, ElementTree) re-flows what it does not understand: multi-line attribute lists become one
line, blank lines and the encoding declaration change, a declaration appears where there was none. A WSO2
engineer comparing an image's conf file with the pack then has to dig for the real change. So the file is
parsed twice: once by lxml, which only proves it well-formed, and once by the small tokenizer below, which
records where each element, attribute value and comment sits in the text. Edits are splices of those spans,
applied to the original text and written back in the encoding the file declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from .errors import RenderError

_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")
_NAME = re.compile(r"<([^\s/>]+)")
_ATTR = re.compile(r"\s*([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_TAG_CLOSE = re.compile(r"\s*(/?)>")
_END_TAG = re.compile(r"</([^\s>]+)\s*>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(value: str) -> str:
    def one(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _ENTITIES[ref]
    return _ENTITY.sub(one, value)


def escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: str) -> str:
    return escape_text(value).replace('"', "&quot;")


@dataclass
class Attr:
    name_start: int  # where the attribute's name starts (after the whitespace before it)
    value_start: int  # inside the quotes
    value_end: int
    value: str  # entities resolved


@dataclass
class Comment:
    start: int  # '<' of '<!--'
    end: int  # after '-->'
    body: str


@dataclass
class Element:
    name: str  # as written, with its prefix
    start: int  # '<' of the start tag
    start_end: int  # after the start tag's '>'
    end: int = -1  # after the end tag's '>' (== start_end when self-closing)
    end_start: int = -1  # '<' of the end tag (== start_end when self-closing)
    self_closing: bool = False
    attrs: dict[str, Attr] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    @property
    def local(self) -> str:
        return self.name.rpartition(":")[2]

    def get(self, name: str) -> str | None:
        attr = self.attrs.get(name)
        return attr.value if attr else None


class XmlText:
    """One XML file: its elements located in the original text, and the splices made to it."""

    def __init__(self, data: bytes, file: str):
        self.file = file
        try:
            etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
        except etree.XMLSyntaxError as err:
            raise RenderError(f"{file} is not well-formed XML ({err})",
                              f"restore {file} from the stock pack (or fix the line named)") from None
        m = _DECLARATION.match(data)
        self.encoding = m.group(1).decode("ascii") if m else "UTF-8"
        self._bom = data.startswith(b"\xef\xbb\xbf")
        try:
            self.text = data[3 if self._bom else 0:].decode(self.encoding)
        except (LookupError, UnicodeDecodeError) as err:
            raise RenderError(f"{file} cannot be read as its declared encoding {self.encoding} ({err})",
                              f"restore {file} from the stock pack") from None
        self.newline = "\r\n" if "\r\n" in self.text else "\n"
        self.root = _tokenize(self.text, file)
        self._edits: list[tuple[int, int, str]] = []

    # ------------------------------------------------------------------ finding

    def find(self, path: str, where: Callable[[Element], bool] | None = None) -> list[Element]:
        """Elements at a slash path of local names from the root, e.g. `Server/Ports/Offset`; `where`
        filters the last step."""
        steps = [s for s in path.split("/") if s]
        if not steps or self.root.local != steps[0]:
            return []
        found = [self.root]
        for i, step in enumerate(steps[1:], start=2):
            found = [c for e in found for c in e.children if c.local == step]
            if i == len(steps) and where is not None:
                found = [e for e in found if where(e)]
        return found

    def commented(self, parent: Element, local: str) -> Comment | None:
        """A comment directly in `parent` that holds a commented-out `<local>…</local>`, as a shipped
        carbon.xml has `<!--HostName>www.wso2.org</HostName-->`."""
        pattern = re.compile(rf"^\s*<?{re.escape(local)}(\s[^>]*)?>.*</{re.escape(local)}>?\s*$", re.DOTALL)
        for comment in parent.comments:
            if pattern.match(comment.body):
                return comment
        return None

    # ------------------------------------------------------------------ editing

    def set_text(self, element: Element, value: str) -> None:
        """Replace the element's content with `value` (the element must hold text only)."""
        if element.children:
            raise RenderError(f"{self.file}: <{element.name}> holds elements, expected a value",
                              f"restore <{element.name}> in {self.file} from the stock pack")
        if element.self_closing:
            close = self.text.rindex("/", element.start, element.start_end)
            self._splice(close, element.start_end, f">{escape_text(value)}</{element.name}>")
        else:
            self._splice(element.start_end, element.end_start, escape_text(value))

    def set_attr(self, element: Element, name: str, value: str, after: str | None = None) -> None:
        """Set an attribute's value in place; a new one goes after the attribute `after` (or the last one),
        on its own line when the start tag lists its attributes one per line."""
        attr = element.attrs.get(name)
        if attr is not None:
            self._splice(attr.value_start, attr.value_end, escape_attr(value))
            return
        anchor = element.attrs.get(after) if after else None
        if anchor is None and element.attrs:
            anchor = max(element.attrs.values(), key=lambda a: a.value_start)
        written = f'{name}="{escape_attr(value)}"'
        if anchor is None:
            at = element.start + 1 + len(element.name)
            self._splice(at, at, " " + written)
            return
        at = anchor.value_end + 1  # after the closing quote
        if self._multi_line(element):
            self._splice(at, at, self.newline + self._align(anchor.name_start) + written)
        else:
            self._splice(at, at, " " + written)

    def remove_attr(self, element: Element, name: str) -> None:
        attr = element.attrs.get(name)
        if attr is None:
            return
        begin = attr.name_start
        while begin > element.start and self.text[begin - 1] in " \t\r\n":
            begin -= 1
        self._splice(begin, attr.value_end + 1, "")

    def insert_element(self, parent: Element, name: str, value: str) -> None:
        """Add `<name>value</name>` to `parent`: right after the comment that holds it commented out, on a
        line of its own with that comment's indentation; without such a comment, as the first child."""
        written = f"<{name}>{escape_text(value)}</{name}>"
        comment = self.commented(parent, name)
        if comment is not None:
            self._splice(comment.end, comment.end, self.newline + self._indent(comment.start) + written)
            return
        first = min([c.start for c in parent.children] + [c.start for c in parent.comments], default=None)
        indent = self._indent(first) if first is not None else self._indent(parent.start) + "    "
        self._splice(parent.start_end, parent.start_end, self.newline + indent + written)

    def replace_element(self, element: Element, fragment: str) -> None:
        """Replace the whole element, start tag to end tag, with `fragment` (one element, written as it
        should appear from the element's first column on)."""
        try:
            new = etree.fromstring(fragment.encode("utf-8"))
        except etree.XMLSyntaxError as err:
            raise RenderError(f"{self.file}: the fragment for <{element.name}> is not well-formed ({err})",
                              "fix the fragment's template under wso2k8s/templates/") from None
        if etree.QName(new).localname != element.local:
            raise RenderError(f"{self.file}: the fragment for <{element.name}> is a <{etree.QName(new).localname}>",
                              "fix the fragment's template under wso2k8s/templates/")
        self._splice(element.start, element.end, fragment.strip().replace("\n", self.newline))

    def insert_after(self, element: Element, fragment: str) -> None:
        """Add `fragment` (one or more elements, written from column 0) after `element`, a blank line apart
        as a pack's own sibling blocks are; every line of it gets `element`'s indentation."""
        try:
            etree.fromstring(f"<fragment>{fragment}</fragment>".encode())
        except etree.XMLSyntaxError as err:
            raise RenderError(f"{self.file}: the fragment after <{element.name}> is not well-formed ({err})",
                              "fix the fragment's template under wso2k8s/templates/") from None
        indent = self._indent(element.start)
        lines = [indent + line if line.strip() else "" for line in fragment.strip("\n").split("\n")]
        self._splice(element.end, element.end, self.newline * 2 + self.newline.join(lines))

    def to_bytes(self) -> bytes:
        """The original bytes with the splices, in the file's own encoding; characters the encoding lacks
        become character references. The result is checked to be well-formed."""
        text = self.text
        last = len(text) + 1
        # From the end backwards, so earlier spans keep their offsets; of two insertions at one point the
        # one made first ends up first.
        order = sorted(range(len(self._edits)), key=lambda i: (self._edits[i][0], self._edits[i][1], i))
        for start, end, new in (self._edits[i] for i in reversed(order)):
            if end > last:
                raise RenderError(f"{self.file}: two edits overlap at character {start}",
                                  "this is a bug in wso2-kubernetes; report it with the pack's file")
            text = text[:start] + new + text[end:]
            last = start
        data = (b"\xef\xbb\xbf" if self._bom else b"") + text.encode(self.encoding, errors="xmlcharrefreplace")
        try:
            etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as err:
            raise RenderError(f"{self.file}: the rendered file is not well-formed ({err})",
                              "this is a bug in wso2-kubernetes; report it with the pack's file") from None
        return data

    # ------------------------------------------------------------------ helpers

    def _splice(self, start: int, end: int, new: str) -> None:
        self._edits.append((start, end, new))

    def _indent(self, pos: int) -> str:
        """The leading whitespace of the line that holds `pos`."""
        line_start = self.text.rfind("\n", 0, pos) + 1
        line = self.text[line_start:pos]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def _align(self, pos: int) -> str:
        """Whitespace that reaches the column of `pos` (tabs kept, so the column matches in any editor)."""
        line = self.text[self.text.rfind("\n", 0, pos) + 1:pos]
        return "".join(ch if ch == "\t" else " " for ch in line)

    def _multi_line(self, element: Element) -> bool:
        return "\n" in self.text[element.start:element.start_end]


def _tokenize(text: str, file: str) -> Element:
    """The element tree of a well-formed document, with the text spans of tags, attributes and comments."""
    stack: list[Element] = []
    root: Element | None = None
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            break
        if text.startswith("<!--", lt):
            end = text.index("-->", lt + 4) + 3
            if stack:
                stack[-1].comments.append(Comment(lt, end, text[lt + 4:end - 3]))
            pos = end
        elif text.startswith("<![CDATA[", lt):
            pos = text.index("]]>", lt) + 3
        elif text.startswith("<?", lt):
            pos = text.index("?>", lt) + 2
        elif text.startswith("<!", lt):  # DOCTYPE, possibly with an internal subset
            bracket, gt = text.find("[", lt), text.find(">", lt)
            if 0 <= bracket < gt:
                gt = text.index(">", text.index("]", bracket))
            pos = gt + 1
        elif text.startswith("</", lt):
            m = _END_TAG.match(text, lt)
            if not m or not stack or stack[-1].name != m.group(1):
                raise RenderError(f"{file}: cannot follow the end tag at character {lt}",
                                  f"restore {file} from the stock pack")
            element = stack.pop()
            element.end_start, element.end = lt, m.end()
            pos = m.end()
        else:
            m = _NAME.match(text, lt)
            if not m:
                raise RenderError(f"{file}: cannot follow the tag at character {lt}",
                                  f"restore {file} from the stock pack")
            element = Element(m.group(1), lt, -1)
            pos = m.end()
            while not (close := _TAG_CLOSE.match(text, pos)):
                a = _ATTR.match(text, pos)
                if not a:
                    raise RenderError(f"{file}: cannot follow the attributes of <{element.name}> at character "
                                      f"{pos}", f"restore {file} from the stock pack")
                group = 2 if a.group(2) is not None else 3
                element.attrs[a.group(1)] = Attr(a.start(1), a.start(group), a.end(group),
                                                 _unescape(a.group(group)))
                pos = a.end()
            element.start_end = pos = close.end()
            if stack:
                stack[-1].children.append(element)
            elif root is None:
                root = element
            if close.group(1):
                element.self_closing = True
                element.end_start = element.end = element.start_end
            else:
                stack.append(element)
    if root is None or stack:
        raise RenderError(f"{file}: no complete root element", f"restore {file} from the stock pack")
    return root
