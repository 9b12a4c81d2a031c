"""vcred._json.split_member_array: a JSON object's text split at a member holding an array,
each item's text to be parsed on its own (a batch answers one result per item)."""

from __future__ import annotations

import json

import pytest

from vcred._json import MemberArray, split_member_array

NAME = "items"


def split(text: str, *, max_items: int = 10) -> MemberArray | None:
    return split_member_array(text, NAME, max_items=max_items)


def test_each_item_is_the_text_sent_and_the_rest_holds_an_empty_array() -> None:
    text = '{ "a" : [1,{"items":[9]}], "items" : [ 1 , {"x": "],\\"["} ,"s,]" ,[[]] ], "b":{} }\n'
    found = split(text)
    assert found == MemberArray(
        rest='{ "a" : [1,{"items":[9]}], "items" : [], "b":{} }\n',
        items=("1", '{"x": "],\\"["}', '"s,]"', "[[]]"),
        count=4,
    )
    assert json.loads(found.rest)["items"] == []
    assert [json.loads(item) for item in found.items] == json.loads(text)["items"]


@pytest.mark.parametrize(
    "text",
    [
        '{"items":[{"a":1,"a":2}]}',  # duplicate member names: the caller's strict parse refuses
        '{"items":[1e400]}',  # numbers out of range
        '{"items":[-1' + "0" * 5000 + "]}",
        '{"items":["\\ud800"]}',  # a lone surrogate
        '{"item\\u0073":[1]}',  # the name escaped
        '{"items":[' + "[" * 200 + "]" * 200 + "]}",  # past any depth limit of the caller
    ],
)
def test_what_only_the_strict_parse_refuses_is_left_in_the_item(text: str) -> None:
    found = split(text)
    assert found is not None and found.count == 1


def test_an_empty_array_has_no_items() -> None:
    assert split('{"items":[ ]}') == MemberArray(rest='{"items":[]}', items=(), count=0)


def test_past_max_items_it_stops_counting() -> None:
    assert split('{"items":[1,2,3,4,5]}', max_items=3) == MemberArray(rest="", items=(), count=4)
    assert split('{"items":[1,2,3]}', max_items=3) is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        '[{"items":[1]}]',  # no object at the top
        '{"items":[1]} x',  # text after it
        '{"items":[1}',  # brackets that do not match
        '{"items":["1]}',  # a string not closed
        '{"items":[1 2]}',  # no separator
        '{"items":[1,]}',
        '{"items":[,1]}',
        '{"items":[1,,2]}',
        '{"items":[tru]}',  # an item that is no JSON
        '{"items":[NaN]}',
        '{"items":1}',  # not an array
        '{"other":[1]}',  # no such member
        '{"items":[1],"items":[2]}',  # held twice
        '{"a":tru,"items":[1]}',  # no JSON elsewhere
        '{"items":[' + "[" * 100_000 + "]" * 100_000 + "]}",  # past the parser's recursion
    ],
)
def test_a_text_not_so_shaped_is_not_split(text: str) -> None:
    assert split(text) is None
