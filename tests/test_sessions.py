from grokassist.sessions import SessionStore
from grokassist.types import Message


def test_sessions_are_isolated_bounded_and_evicted() -> None:
    store = SessionStore(max_sessions=2, max_messages=3)
    for i in range(5):
        store.append("a", Message(role="user", content=f"a{i}"))
    store.append("b", Message(role="user", content="b0"))
    assert [m.content for m in store.history("a")] == ["a2", "a3", "a4"]
    assert [m.content for m in store.history("b")] == ["b0"]
    store.history("a")  # touch a: b becomes least recently used
    store.append("c", Message(role="user", content="c0"))
    assert "b" not in store and "a" in store and len(store) == 2
    assert store.history("unknown") == []
