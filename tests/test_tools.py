"""Tool logic against the scripted fake engine: prompts, cleaning, chunking, cancellation."""

import threading

import pytest

from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import EngineError, UsageError
from smol_tools.tools.chat import reply
from smol_tools.tools.rewrite import rewrite, styles
from smol_tools.tools.summarize import summarize

ARTICLE = "The council met on Tuesday. It approved the 2025 budget by 7 votes to 2."


def test_summarize_streams_the_cleaned_answer():
    engine = FakeEngine(["Here is a summary:\nThe council approved the budget."])
    run = summarize(engine, ARTICLE)
    assert run.text() == "The council approved the budget."
    request = engine.history[0]
    assert request.messages[0]["role"] == "system"
    assert ARTICLE in request.messages[1]["content"]
    assert run.usage()["requests"] == 1


def test_summarize_question_uses_the_question_prompt():
    engine = FakeEngine(["7 to 2."])
    assert summarize(engine, ARTICLE, question="How did they vote?").text() == "7 to 2."
    user = engine.history[0].messages[1]["content"]
    assert "How did they vote?" in user and ARTICLE in user


def test_summarize_rejects_empty_text_before_any_request():
    engine = FakeEngine()
    with pytest.raises(UsageError):
        summarize(engine, "  \n ")
    assert engine.history == []


def test_long_text_is_summarized_by_chunks_then_combined():
    engine = FakeEngine(context_length=400, default="Part summary.")
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(12))
    calls = []
    run = summarize(engine, text, max_tokens=64, progress=lambda d, t: calls.append((d, t)))
    assert run.text() == "Part summary."
    total = calls[-1][1]
    assert total > 1 and calls[-1] == (total, total)
    assert len(engine.history) == total + 1  # every chunk, then the combine step
    final = engine.history[-1].messages[1]["content"]
    assert "summaries of the parts" in final
    for request in engine.history:  # every request fits the context
        used = sum(engine.count_tokens(m["content"]) for m in request.messages)
        assert used + request.max_tokens <= engine.context_length


def test_context_too_small_is_a_clear_error():
    engine = FakeEngine(context_length=100)
    with pytest.raises(EngineError, match="too small"):
        summarize(engine, ARTICLE, max_tokens=64).text()


def test_rewrite_styles_include_the_basics():
    assert {"professional", "friendly", "concise", "proofread"} <= set(styles())


def test_rewrite_unknown_style_is_usage_error():
    with pytest.raises(UsageError, match="unknown style 'pirate'"):
        rewrite(FakeEngine(), "hello", "pirate")


def test_rewrite_puts_the_style_instruction_in_the_prompt():
    engine = FakeEngine(['"Dear team, thank you."'])
    assert rewrite(engine, "thx guys", "professional").text() == "Dear team, thank you."
    assert "professional" in engine.history[0].messages[1]["content"]


def test_chat_reply_sends_history_and_keeps_preambles():
    engine = FakeEngine(["Here is my answer: 4."])
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "2+2?"},
    ]
    assert reply(engine, history).text() == "Here is my answer: 4."
    sent = engine.history[0].messages
    assert sent[0]["role"] == "system" and sent[1:] == history


def test_chat_drops_oldest_turns_that_do_not_fit():
    engine = FakeEngine(context_length=300)
    history = [{"role": "user", "content": "word " * 100} for _ in range(5)]
    history.append({"role": "user", "content": "last question"})
    reply(engine, history, max_tokens=50).text()
    sent = engine.history[0].messages
    assert sent[-1]["content"] == "last question" and len(sent) < len(history) + 1


def test_cancel_from_another_thread_stops_the_run():
    engine = FakeEngine(["one two three four five six seven eight nine ten " * 5], delay=0.01)
    run = reply(engine, [{"role": "user", "content": "count"}])
    first = next(run)
    threading.Timer(0.05, run.cancel).start()
    rest = "".join(run)
    assert first and len((first + rest).split()) < 50
    assert run.usage()["finish_reason"] == "cancelled"


def test_summary_ends_at_the_first_blank_line_or_third_sentence():
    rambling = "One. Two is here. It is 3.5 km. Four. Five. Six."
    engine = FakeEngine([rambling, "First paragraph.\n\nThen more and more.", "Short."])
    route = ARTICLE + " The route is 3.5 km long."  # a summary states only the text's numbers
    assert summarize(engine, route).text() == "One. Two is here. It is 3.5 km."
    assert summarize(engine, ARTICLE).text() == "First paragraph."
    assert summarize(engine, ARTICLE).text() == "Short."
