"""Limits on what a client may ask: depth of selections, mutations per request and, through the
parser, tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    parse,
)


def depth_limit(max_depth: int) -> type[ASTValidationRule]:
    class DepthLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._fragments = {
                node.name.value: node
                for node in context.document.definitions
                if isinstance(node, FragmentDefinitionNode)
            }
            self._fragment_depths: dict[str, int] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            if self._depth(node.selection_set, frozenset()) > max_depth:
                name = node.name.value if node.name else "the operation"
                self.report_error(
                    GraphQLError(f"{name} is deeper than the limit of {max_depth} levels", node)
                )

        def _depth(self, selections: SelectionSetNode | None, expanding: frozenset[str]) -> int:
            """Levels of fields below ``selections``. A fragment's depth is computed once, however
            many times it is spread (a fragment spreading another twice, n deep, is 2^n paths)."""
            if selections is None:
                return 0
            deepest = 0
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    deepest = max(deepest, 1 + self._depth(selection.selection_set, expanding))
                elif isinstance(selection, InlineFragmentNode):
                    deepest = max(deepest, self._depth(selection.selection_set, expanding))
                elif isinstance(selection, FragmentSpreadNode):
                    deepest = max(deepest, self._fragment_depth(selection.name.value, expanding))
            return deepest

        def _fragment_depth(self, name: str, expanding: frozenset[str]) -> int:
            if name in self._fragment_depths:
                return self._fragment_depths[name]
            fragment = self._fragments.get(name)
            if fragment is None or name in expanding:  # unknown or a cycle: other rules report those
                return 0
            depth = self._fragment_depths[name] = self._depth(fragment.selection_set, expanding | {name})
            return depth

    return DepthLimit


def mutation_limit(max_mutations: int) -> type[ASTValidationRule]:
    """At most ``max_mutations`` mutation fields in one operation (aliases and fragments counted)."""

    class MutationLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            if node.operation != OperationType.MUTATION:
                return
            fragments = {
                definition.name.value: definition
                for definition in self.context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            count = _top_level_fields(node.selection_set, fragments, frozenset())
            if count > max_mutations:
                self.report_error(GraphQLError(
                    f"a request may run at most {max_mutations} mutations; this one asks for {count}", node
                ))

    return MutationLimit


def _top_level_fields(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], expanding: frozenset[str]
) -> int:
    count = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            count += 1
        elif isinstance(selection, InlineFragmentNode):
            count += _top_level_fields(selection.selection_set, fragments, expanding)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in expanding:
                count += _top_level_fields(fragments[name].selection_set, fragments, expanding | {name})
    return count


_CACHED_QUERY_CHARS = 64 * 1024  # a bigger document is parsed but not remembered


@lru_cache(maxsize=4)
def cached_parser(max_tokens: int | None) -> Callable[[Any, dict[str, Any]], DocumentNode]:
    """A parser that refuses documents over ``max_tokens`` and remembers the documents it parsed:
    clients send the same few operations again and again, and parsing a large one costs more
    than running it. Documents are immutable, so sharing them between requests is safe."""

    @lru_cache(maxsize=512)
    def parse_text(query: str) -> DocumentNode:
        return parse(query, max_tokens=max_tokens)

    def parse_query(_context: Any, data: dict[str, Any]) -> DocumentNode:
        query = data.get("query")
        if not isinstance(query, str) or len(query) > _CACHED_QUERY_CHARS:
            return parse(query, max_tokens=max_tokens)  # type: ignore[arg-type]  # graphql-core names the problem
        return parse_text(query)

    return parse_query
