"""How Argo Rollouts judges one measurement of an AnalysisTemplate metric, for the harness's tests.

Argo Rollouts evaluates `successCondition` and `failureCondition` with the expr language
(github.com/expr-lang/expr), `result` bound to the provider's value: for Prometheus, the vector's
sample values as a list of floats (`[]` for an empty vector). No Python implementation of expr
exists, so this module evaluates only the small subset the generated templates use and refuses
everything else (an unsupported condition fails the test instead of being guessed at):

    numbers, `result`, `result[<int>]`, `len(...)`, `isNaN(...)`, parentheses,
    `<` `<=` `>` `>=` `==` `!=`, `&&` / `and`, `||` / `or`, `!` / `not`

with expr's semantics for these: `&&` and `||` short-circuit, a comparison with NaN is false, and
indexing past the end of `result` is a runtime error (the measurement's phase is then Error).
`measurement_phase` is Argo's `EvaluateResult` (utils/evaluate/evaluate.go) on top of it.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||<=|>=|==|!=|<|>|!|\(|\)|\[|\]))"
)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {"len": len, "isNaN": math.isnan}


class UnsupportedExpression(ValueError):
    """The condition uses something this evaluator does not implement."""


class EvaluationError(RuntimeError):
    """expr would fail at run time (e.g. `result[0]` on an empty result)."""


@dataclass
class _Node:
    kind: str
    value: Any = None
    children: tuple["_Node", ...] = ()


def _tokens(source: str) -> list[str]:
    tokens, position = [], 0
    while position < len(source.rstrip()):
        match = _TOKEN.match(source, position)
        if not match or match.end() == position:
            raise UnsupportedExpression(f"cannot read {source[position:]!r} in {source!r}")
        tokens.append(match.group(match.lastgroup or ""))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise UnsupportedExpression(f"expected {expected or 'more'} in {self.source!r}")
        self.position += 1
        return token

    def parse(self) -> _Node:
        node = self.disjunction()
        if self.peek() is not None:
            raise UnsupportedExpression(f"unexpected {self.peek()!r} in {self.source!r}")
        return node

    def disjunction(self) -> _Node:
        node = self.conjunction()
        while self.peek() in ("||", "or"):
            self.take()
            node = _Node("or", children=(node, self.conjunction()))
        return node

    def conjunction(self) -> _Node:
        node = self.negation()
        while self.peek() in ("&&", "and"):
            self.take()
            node = _Node("and", children=(node, self.negation()))
        return node

    def negation(self) -> _Node:
        if self.peek() in ("!", "not"):
            self.take()
            return _Node("not", children=(self.negation(),))
        return self.comparison()

    def comparison(self) -> _Node:
        node = self.primary()
        if self.peek() in _COMPARISONS:
            operator = self.take()
            node = _Node("compare", operator, (node, self.primary()))
            if self.peek() in _COMPARISONS:
                raise UnsupportedExpression(f"chained comparison in {self.source!r}")
        return node

    def primary(self) -> _Node:
        word = self.take()
        if word == "(":
            node = self.disjunction()
            self.take(")")
            return node
        if word[0].isdigit() or word[0] == ".":
            return _Node("number", float(word))
        if word == "result":
            if self.peek() == "[":
                self.take()
                index = self.take()
                if not index.isdigit():
                    raise UnsupportedExpression(f"index {index!r} in {self.source!r}")
                self.take("]")
                return _Node("index", int(index))
            return _Node("result")
        if word in _FUNCTIONS and self.peek() == "(":
            self.take()
            argument = self.disjunction()
            self.take(")")
            return _Node("call", word, (argument,))
        raise UnsupportedExpression(f"{word!r} in {self.source!r}")


def _evaluate(node: _Node, result: list[float]) -> Any:
    if node.kind == "number":
        return node.value
    if node.kind == "result":
        return result
    if node.kind == "index":
        if node.value >= len(result):
            raise EvaluationError(f"index out of range: {node.value} (length {len(result)})")
        return result[node.value]
    if node.kind == "call":
        return _FUNCTIONS[node.value](_evaluate(node.children[0], result))
    if node.kind == "compare":
        left, right = (_evaluate(child, result) for child in node.children)
        return _COMPARISONS[node.value](left, right)
    if node.kind == "not":
        return not _boolean(_evaluate(node.children[0], result))
    left = _boolean(_evaluate(node.children[0], result))
    if node.kind == "and":  # short-circuit, as expr does
        return left and _boolean(_evaluate(node.children[1], result))
    return left or _boolean(_evaluate(node.children[1], result))


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise EvaluationError(f"expected a bool, got {value!r}")
    return value


def evaluate(condition: str, result: list[float]) -> bool:
    """The condition's value for a Prometheus result (the vector's values)."""
    return _boolean(_evaluate(_Parser(condition).parse(), result))


def measurement_phase(metric: dict[str, Any], result: list[float]) -> str:
    """Argo's phase for one measurement: Successful, Failed, Inconclusive or Error."""
    success_condition = metric.get("successCondition", "")
    failure_condition = metric.get("failureCondition", "")
    success = failure = False
    try:
        if success_condition:
            success = evaluate(success_condition, result)
        if failure_condition:
            failure = evaluate(failure_condition, result)
    except EvaluationError:
        return "Error"
    if not success_condition and not failure_condition:
        return "Successful"
    if success_condition and not failure_condition:
        failure = not success
    if failure_condition and not success_condition:
        success = not failure
    if failure:
        return "Failed"
    if not success:
        return "Inconclusive"
    return "Successful"
