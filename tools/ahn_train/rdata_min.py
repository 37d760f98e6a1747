"""A minimal reader of R's XDR serialization (``saveRDS`` / lazy-load databases), enough for the
character vectors of ``r-cran-janeaustenr`` (models-data.md Appendix B) without R, pandas or
``rdata``.

Format (R Internals, "Serialization Formats"): ``X\\n``, then big-endian ints: version (2 or 3),
writer and minimal R versions, for version 3 a native-encoding string; then one item. Each item
starts with an int of flags: type ``flags & 0xFF``, has-attributes bit 9, has-tag bit 10. Vectors
are a length and their elements; pairlists are (attributes, tag, car, cdr); symbols and
environments enter a reference table that ``REFSXP`` items point into.

Supported: NULL, symbols, pairlists, character, logical, integer, double and generic vectors,
references, the special environments, and ALTREP wrappers (their state is returned). Anything
else raises ``ValueError``.
"""

import struct

NILVALUE, REFSXP = 254, 255
SPECIAL_ENVS = {253: "GlobalEnv", 252: "Unbound", 251: "MissingArg", 242: "EmptyEnv", 241: "BaseEnv"}
SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP = 1, 2, 9, 10, 13, 14, 16, 19
ALTREP, ATTRLIST = 238, 239


class RList(list):
    """A generic vector (R list) with its ``names`` attribute as ``.names`` (or None)."""

    names = None

    def as_dict(self):
        return dict(zip(self.names, self, strict=True))


class _Reader:
    def __init__(self, data):
        self.data, self.pos, self.refs = data, 0, []

    def ints(self, n):
        out = struct.unpack_from(f">{n}i", self.data, self.pos)
        self.pos += 4 * n
        return out

    def int(self):
        return self.ints(1)[0]

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if kind == NILVALUE:
            return None
        if kind in SPECIAL_ENVS:
            return SPECIAL_ENVS[kind]
        if kind == REFSXP:
            idx = flags >> 8 or self.int()
            return self.refs[idx - 1]
        if kind == SYMSXP:
            name = self.item()
            self.refs.append(name)
            return name
        if kind in (LISTSXP, ATTRLIST):
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            del attr
            car = self.item()
            cdr = self.item()
            rest = cdr if isinstance(cdr, list) else []
            return [(tag, car)] + rest
        if kind == CHARSXP:
            n = self.int()
            if n == -1:
                return None
            s = self.data[self.pos : self.pos + n].decode("utf-8", errors="replace")
            self.pos += n
            return s
        if kind == ALTREP:
            self.item()  # class info
            state = self.item()
            self.item()  # attributes
            return state
        if kind in (LGLSXP, INTSXP):
            value = list(self.ints(self.int()))
        elif kind == REALSXP:
            n = self.int()
            value = list(struct.unpack_from(f">{n}d", self.data, self.pos))
            self.pos += 8 * n
        elif kind == STRSXP:
            value = [self.item() for _ in range(self.int())]
        elif kind == VECSXP:
            value = RList(self.item() for _ in range(self.int()))
        else:
            raise ValueError(f"unsupported R serialization item type {kind}")
        if has_attr:
            attrs = dict(self.item())
            if isinstance(value, RList) and "names" in attrs:
                value.names = attrs["names"]
        return value


def unserialize(data: bytes):
    """The object of one serialized R stream (``X\\n`` XDR format, version 2 or 3)."""
    if data[:2] != b"X\n":
        raise ValueError("not an XDR R serialization stream")
    r = _Reader(data)
    r.pos = 2
    version = r.int()
    r.ints(2)
    if version == 3:
        n = r.int()
        r.pos += n
    elif version != 2:
        raise ValueError(f"unsupported R serialization version {version}")
    return r.item()
