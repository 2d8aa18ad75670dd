"""The S3 Select SQL dialect: tokens and a small precedence-climbing parser to a syntax tree.

Grammar (what S3 Select and the RGW dialect of ceph/s3-tests accept)::

    SELECT item [, item]* | *  FROM S3Object[path] [[AS] alias]  [WHERE expr]  [LIMIT n]  [;]

Expressions: literals ('text', "text", numbers, TRUE/FALSE/NULL), columns (``_1``, ``name``,
``s.name``, ``_1.c1``), arithmetic, ``||``, comparisons (chained left to right), IS [NOT] NULL,
[NOT] IN, [NOT] LIKE [ESCAPE], [NOT] BETWEEN, NOT/AND/OR, CASE, CAST(x AS type), and function calls
(including the keyword forms of SUBSTRING, TRIM and EXTRACT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from nuage.core.select.errors import (
    ExpressionTooLong,
    InvalidCharacter,
    SelectError,
    TooManyOperators,
    UnsupportedSyntax,
)


# -- syntax tree ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Literal(Node):
    value: object                  # str, int, float, bool or None
    quoted_double: bool = False    # "text": a column name when one exists, else a string


@dataclass(frozen=True)
class Column(Node):
    parts: tuple[str, ...]         # s.name -> ("s", "name")
    quoted: bool = False


@dataclass(frozen=True)
class Star(Node):
    pass


@dataclass(frozen=True)
class Unary(Node):
    op: str                        # "-", "+", "NOT"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str                        # + - * / % || = != < > <= >= AND OR
    left: Node
    right: Node


@dataclass(frozen=True)
class IsNull(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class Like(Node):
    operand: Node
    pattern: Node
    escape: Node | None
    negated: bool


@dataclass(frozen=True)
class Between(Node):
    operand: Node
    low: Node
    high: Node
    negated: bool


@dataclass(frozen=True)
class Case(Node):
    subject: Node | None
    whens: tuple[tuple[Node, Node], ...]
    default: Node | None


@dataclass(frozen=True)
class Cast(Node):
    operand: Node
    type_name: str


@dataclass(frozen=True)
class Call(Node):
    name: str                      # lowercased
    args: tuple[Node, ...]
    star: bool = False             # COUNT(*)
    keyword: str | None = None     # TRIM's LEADING/TRAILING/BOTH, EXTRACT's part, DATE_ADD's part


@dataclass(frozen=True)
class SelectItem:
    expr: Node
    alias: str | None


@dataclass
class Query:
    items: list[SelectItem]        # empty for SELECT *
    path: list[str]                # FROM S3Object[*].a.b -> ["a", "b"]
    source_alias: str | None
    where: Node | None
    limit: int | None
    aliases: dict[str, Node] = field(default_factory=dict)


# -- tokens ---------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<dstr>"(?:[^"]|"")*")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|==|\|\||[-+*/%=<>(),.;\[\]])
""", re.VERBOSE)

KEYWORDS = frozenset({
    "select", "from", "where", "limit", "as", "and", "or", "not", "is", "null", "in", "like", "escape",
    "between", "case", "when", "then", "else", "end", "cast", "true", "false", "missing",
})


@dataclass(frozen=True)
class Token:
    kind: str          # num, str, dstr, ident, op, eof
    text: str
    pos: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "ident" else ""


def tokenize(sql: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:
            raise InvalidCharacter(f"Invalid character at position {pos + 1}: {sql[pos]!r}.")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, m.group(), pos))
        pos = m.end()
    out.append(Token("eof", "", len(sql)))
    return out


# -- parser ---------------------------------------------------------------------------------------
COMPARISONS = frozenset({"=", "==", "!=", "<>", "<", ">", "<=", ">="})
MAX_NESTING = 48        # parentheses, function calls and CASE within one another
MAX_TREE_DEPTH = 256    # operators applied to the results of operators (a + b + c ... is a chain of them)


def too_complex() -> SelectError:
    return TooManyOperators("Failed to parse SQL expression, try reducing complexity. For "
                            "example, reduce number of operators used.")


class Parser:
    def __init__(self, sql: str) -> None:
        self.tokens = tokenize(sql)
        self.i = 0
        self.depth = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.i + n, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return t

    def at_word(self, *words: str) -> bool:
        return self.tok.word in words

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def fail(self, what: str = "") -> SelectError:
        t = self.tok
        found = "end of expression" if t.kind == "eof" else repr(t.text)
        return UnsupportedSyntax(f"Unexpected {found} at position {t.pos + 1}"
                                 + (f": {what}" if what else "") + ".")

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            raise self.fail(f"expected {word.upper()}")
        self.advance()

    def expect_op(self, op: str) -> None:
        if not self.at_op(op):
            raise self.fail(f"expected {op!r}")
        self.advance()

    def ident(self) -> str:
        t = self.tok
        if t.kind == "ident":
            self.advance()
            return t.text
        if t.kind == "dstr":
            self.advance()
            return t.text[1:-1].replace('""', '"')
        raise self.fail("expected a name")

    # statement
    def query(self) -> Query:
        self.expect_word("select")
        items: list[SelectItem] = []
        if self.at_op("*"):
            self.advance()
        else:
            while True:
                expr = self.expr()
                alias: str | None = None
                if self.at_word("as"):
                    self.advance()
                    alias = self.ident()
                elif self.tok.kind in ("ident", "dstr") and self.tok.word not in KEYWORDS:
                    alias = self.ident()
                items.append(SelectItem(expr, alias))
                if not self.at_op(","):
                    break
                self.advance()
        self.expect_word("from")
        source = self.ident().lower()
        if source not in ("s3object", "stdin"):
            raise UnsupportedSyntax(f"The FROM clause must name S3Object, not {source!r}.")
        path: list[str] = []
        while self.at_op("[", "."):
            if self.at_op("["):
                self.advance()
                self.expect_op("*")
                self.expect_op("]")
            else:
                self.advance()
                path.append(self.ident())
        source_alias: str | None = None
        if self.at_word("as"):
            self.advance()
            source_alias = self.ident()
        elif self.tok.kind == "ident" and self.tok.word not in KEYWORDS:
            source_alias = self.ident()
        where = None
        if self.at_word("where"):
            self.advance()
            where = self.expr()
        limit = None
        if self.at_word("limit"):
            self.advance()
            if self.tok.kind != "num" or not self.tok.text.isdigit():
                raise self.fail("LIMIT takes a whole number")
            limit = int(self.advance().text)
        if self.at_op(";"):
            self.advance()
        if self.tok.kind != "eof":
            raise self.fail()
        q = Query(items, path, source_alias, where, limit)
        for item in items:
            if item.alias is not None:
                q.aliases[item.alias.lower()] = item.expr
        return q

    # expressions, lowest precedence first
    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise too_complex()
        try:
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> Node:
        left = self.and_expr()
        while self.at_word("or"):
            self.advance()
            left = Binary("OR", left, self.and_expr())
        return left

    def and_expr(self) -> Node:
        left = self.not_expr()
        while self.at_word("and"):
            self.advance()
            left = Binary("AND", left, self.not_expr())
        return left

    def not_expr(self) -> Node:
        if self.at_word("not"):
            self.advance()
            return Unary("NOT", self.not_expr())
        return self.predicate()

    def predicate(self) -> Node:
        left = self.concat()
        while True:
            if self.tok.kind == "op" and self.tok.text in COMPARISONS:
                op = self.advance().text
                op = {"==": "=", "<>": "!="}.get(op, op)
                left = Binary(op, left, self.concat())
                continue
            if self.at_word("is"):
                self.advance()
                negated = self.at_word("not")
                if negated:
                    self.advance()
                if not self.at_word("null", "missing"):
                    raise self.fail("expected NULL")
                self.advance()
                left = IsNull(left, negated)
                continue
            negated = False
            if self.at_word("not") and self.peek().word in ("in", "like", "between"):
                self.advance()
                negated = True
            if self.at_word("in"):
                self.advance()
                self.expect_op("(")
                items = [self.expr()]
                while self.at_op(","):
                    self.advance()
                    items.append(self.expr())
                self.expect_op(")")
                left = InList(left, tuple(items), negated)
            elif self.at_word("like"):
                self.advance()
                pattern = self.concat()
                escape = None
                if self.at_word("escape"):
                    self.advance()
                    escape = self.concat()
                left = Like(left, pattern, escape, negated)
            elif self.at_word("between"):
                self.advance()
                low = self.concat()
                self.expect_word("and")
                left = Between(left, low, self.concat(), negated)
            elif negated:
                raise self.fail()
            else:
                return left

    def concat(self) -> Node:
        left = self.additive()
        while self.at_op("||"):
            self.advance()
            left = Binary("||", left, self.additive())
        return left

    def additive(self) -> Node:
        left = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.advance().text
            left = Binary(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Node:
        left = self.unary()
        while self.at_op("*", "/", "%"):
            op = self.advance().text
            left = Binary(op, left, self.unary())
        return left

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            op = self.advance().text
            return Unary(op, self.unary())
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.advance()
            text = t.text
            return Literal(int(text) if text.isdigit() else float(text))
        if t.kind == "str":
            self.advance()
            return Literal(t.text[1:-1].replace("''", "'"))
        if t.kind == "dstr":
            self.advance()
            return Literal(t.text[1:-1].replace('""', '"'), quoted_double=True)
        if self.at_op("("):
            self.advance()
            inner = self.expr()
            self.expect_op(")")
            return inner
        if t.kind != "ident":
            raise self.fail("expected an expression")
        word = t.word
        if word in ("true", "false"):
            self.advance()
            return Literal(word == "true")
        if word in ("null", "missing"):
            self.advance()
            return Literal(None)
        if word == "case":
            return self.case()
        if word == "cast":
            self.advance()
            self.expect_op("(")
            operand = self.expr()
            self.expect_word("as")
            type_name = self.ident().lower()
            if self.at_op("("):          # DECIMAL(10, 2), VARCHAR(20): sizes are ignored
                while not self.at_op(")") and self.tok.kind != "eof":
                    self.advance()
                self.expect_op(")")
            self.expect_op(")")
            return Cast(operand, type_name)
        if word in KEYWORDS:
            raise self.fail("expected an expression")
        if self.peek().kind == "op" and self.peek().text == "(":
            return self.call()
        self.advance()
        parts = [t.text]
        while self.at_op(".") and self.peek().kind in ("ident", "dstr"):
            self.advance()
            parts.append(self.ident())
        return Column(tuple(parts))

    def case(self) -> Node:
        self.expect_word("case")
        subject = None if self.at_word("when") else self.expr()
        whens: list[tuple[Node, Node]] = []
        while self.at_word("when"):
            self.advance()
            cond = self.expr()
            self.expect_word("then")
            whens.append((cond, self.expr()))
        if not whens:
            raise self.fail("expected WHEN")
        default = None
        if self.at_word("else"):
            self.advance()
            default = self.expr()
        self.expect_word("end")
        return Case(subject, tuple(whens), default)

    def call(self) -> Node:
        name = self.advance().text.lower()
        self.expect_op("(")
        if name == "count" and self.at_op("*"):
            self.advance()
            self.expect_op(")")
            return Call(name, (), star=True)
        if name == "extract":
            part = self.ident().lower()
            self.expect_word("from")
            arg = self.expr()
            self.expect_op(")")
            return Call(name, (arg,), keyword=part)
        if name in ("date_add", "date_diff"):
            part = self.ident().lower()
            self.expect_op(",")
            first = self.expr()
            self.expect_op(",")
            second = self.expr()
            self.expect_op(")")
            return Call(name, (first, second), keyword=part)
        if name == "trim":
            keyword = None
            if self.at_word("leading", "trailing", "both"):
                keyword = self.advance().text.lower()
            targs: list[Node] = []
            if self.at_word("from"):
                self.advance()
                targs.append(self.expr())
            else:
                chars = self.expr()
                if self.at_word("from"):
                    self.advance()
                    targs = [self.expr(), chars]
                else:
                    targs = [chars]
            self.expect_op(")")
            return Call(name, tuple(targs), keyword=keyword)
        args: list[Node] = []
        if not self.at_op(")"):
            args.append(self.expr())
            if name == "substring" and self.at_word("from"):
                self.advance()
                args.append(self.expr())
                if self.at_word("for"):
                    self.advance()
                    args.append(self.expr())
            while self.at_op(","):
                self.advance()
                args.append(self.expr())
        self.expect_op(")")
        return Call(name, tuple(args))


def parse(sql: str) -> Query:
    if len(sql) > 256 * 1024:
        raise ExpressionTooLong("The SQL expression is longer than 256 KB.")
    try:
        query = Parser(sql).query()
    except RecursionError:
        raise too_complex() from None
    roots = [item.expr for item in query.items] + ([query.where] if query.where is not None else [])
    if any(tree_depth(root) > MAX_TREE_DEPTH for root in roots):
        raise too_complex()
    return query


def tree_depth(root: Node) -> int:
    """How deep the tree under ``root`` goes (walked without recursion: its depth is what is checked)."""
    deepest = 0
    todo: list[tuple[object, int]] = [(root, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, tuple):
            todo.extend((x, depth) for x in node)
            continue
        if not isinstance(node, Node):
            continue
        deepest = max(deepest, depth)
        todo.extend((getattr(node, f.name), depth + 1) for f in fields(node))
    return deepest
