"""The voice pipeline: audio -> VAD -> end of turn -> STT -> Assistant.astream -> sentences -> TTS -> audio.

Stages are small protocols (:class:`~.audio.AudioSource`,
:class:`~.vad.VoiceActivityDetector`, :class:`~.stt.SpeechToText`,
:class:`~.tts.TextToSpeech`, :class:`~.audio.AudioOutput`) joined by asyncio
tasks. What makes it fast and interruptible:

- **Speculative turns.** At the first short pause (``pause_s``, 128 ms) the
  segment is transcribed and the answer starts at once, held back from the
  speaker; when the pause becomes an end of turn (``end_s``) the held audio is
  released, and if the owner goes on talking the speculative turn is cancelled
  like an interruption. The end-of-turn wait overlaps transcription, retrieval,
  generation and synthesis instead of preceding them. Actions are published
  only once the turn has ended.
- **Sentence streaming.** The first clause of a few words is spoken as soon as
  it is complete; the rest sentence by sentence, synthesised while the
  previous one plays.
- **Barge-in.** When speech starts while the robot talks, playback pauses at
  once (within one 20 ms slice). Speech with words in it (Whisper, after a pause
  or ``confirm_s`` of speech) confirms the interruption: the turn's task is
  cancelled, which closes the answer stream (llama.cpp stops at its next token),
  its queued audio is dropped and refused forever after, and the history keeps
  only the words that were played. A cough or a short noise has no words: the
  paused answer resumes (livekit agents' "false interruption").
- **"Stop"** is recognised without a model and handled at the first pause:
  speech stops and a ``stop`` action goes through the gate (always allowed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from ..assistant import Assistant
from ..backends.base import ChatBackend, GenerationSettings
from ..errors import GrokAssistError, RobotError
from ..retrieval.base import Filters
from ..stores.memory import SessionStore
from ..tools import ToolRegistry, achoose_tool_call
from ..types import Answer, Message, Passage, ScoredPassage
from .actions import robot_tools
from .audio import AudioOutput, AudioSource, Player
from .gate import ActionRequest, RobotState, SafetyGate
from .mqtt import MqttLink
from .stt import SpeechToText, Transcript, is_non_speech
from .tts import SentenceAggregator, TextToSpeech, speakable
from .vad import SpeechPaused, SpeechResumed, SpeechStarted, TurnDetector, TurnEnded, VoiceActivityDetector

__all__ = ["PipelineOptions", "RobotAssistant", "SpokenHistory", "TurnRecord", "VoicePipeline"]

log = logging.getLogger("grokassist.robot")

_STOP = re.compile(
    r"^\W*(?:(?:hey\s+)?optimus\W+)?(?:(?:stop|halt|freeze)\W*)+(?:\s*(?:now|it|that|moving|talking|everything))?\W*$",
    re.IGNORECASE,
)
_COMMAND = re.compile(
    r"\b(?:go|walk|come|bring|fetch|get|hand|give|pass|point|show|display|call|navigate|take|move|carry|"
    r"put|head|drive|stop)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"^\W*(?:(?:hey\s+)?optimus\W+)?(?:how|what|why|when|where|which|who|whose|does|do|is|are|should|did|"
    r"was|were|has|have|am)\b",
    re.IGNORECASE,
)
_STATUS = re.compile(
    r"\b(?:(?:your|the) battery(?: level)?|charge level|are you charging|power left|what are you doing|"
    r"your (?:current )?task|current task|(?:any|your) faults?|your status|"
    r"how much (?:power|charge|battery))\b",
    re.IGNORECASE,
)


_WAIT = re.compile(r"^\W*(?:wait|hold on|hey optimus)\b", re.IGNORECASE)
_COMPLETE = re.compile(r"\w.*[.?!]\W*$")


def is_stop(text: str) -> bool:
    return bool(_STOP.match(text.strip()))


def looks_like_command(text: str) -> bool:
    """Routing only (the gate decides): an imperative with an action verb, not a how/what question."""
    return bool(_COMMAND.search(text)) and not _QUESTION.match(text)


@dataclass
class PipelineOptions:
    """Tuning of :class:`VoicePipeline` (defaults measured in ``docs/robot.md``)."""

    session: str = "owner"
    pause_s: float = 0.128  # silence that starts a speculative turn
    end_s: float = 0.64  # silence that ends the owner's turn
    preroll_s: float = 0.5  # audio kept from before the detected speech start
    confirm_s: float = 0.6  # barge-in speech after which Whisper is asked whether it holds words
    # words that make speech over the robot's voice an interruption (pipecat's MinWords strategy;
    # the manual's "Hey Optimus" is two): a cough or a hum that Whisper turns into one word is not;
    # "stop" (and "wait") always are
    min_words: int = 2
    first_clause_words: int = 6  # 0: speak whole sentences only
    max_answer_tokens: int = 120  # spoken answers are short
    speculative: bool = True
    actions: bool = True  # route commands to the tool chooser and the gate
    filters: Mapping[str, object] | None = None


@dataclass
class TurnRecord:
    """What happened in one turn, with monotonic timestamps (``None``: did not happen)."""

    id: int
    transcript: str = ""
    kind: str = "answer"  # answer, action, stop, confirmation, noise
    speech_end: float | None = None  # VAD's estimate (last voiced frame)
    pause_detected: float | None = None
    stt_start: float | None = None
    stt_end: float | None = None
    retrieval_start: float | None = None
    retrieval_end: float | None = None
    first_text: float | None = None
    first_piece: float | None = None
    first_piece_text: str = ""
    tts_first_end: float | None = None
    committed: float | None = None
    first_audio: float | None = None
    answer_text: str = ""
    spoken_text: str = ""
    interrupted: bool = False
    cancelled: bool = False  # a speculative turn dropped because the owner went on
    cancel_requested: float | None = None
    stream_closed: float | None = None
    audio_stopped: float | None = None  # last slice played after an interruption
    citations: list[str] = field(default_factory=list)
    decision: dict[str, Any] | None = None


class SpokenHistory:
    """A :class:`~grokassist.stores.ConversationStore` that keeps what was *heard*.

    The assistant is called with the session ``"<session>#<turn>"``: it reads the
    history of ``<session>`` and its own record of the turn is held back;
    :meth:`record` then stores the question and the words actually played
    (an interrupted answer ends with "…"), and :meth:`discard` forgets a turn
    that was never heard.
    """

    def __init__(self, store: SessionStore | None = None) -> None:
        self.store = store or SessionStore()
        self.max_messages = self.store.max_messages
        self._pending: dict[str, tuple[Message, ...]] = {}

    @staticmethod
    def _base(session_id: str) -> str:
        return session_id.split("#", 1)[0]

    def history(self, session_id: str) -> list[Message]:
        return self.store.history(self._base(session_id))

    def append(self, session_id: str, *messages: Message) -> None:
        if "#" in session_id:
            self._pending[session_id] = messages
        else:
            self.store.append(session_id, *messages)

    def clear(self, session_id: str) -> None:
        self.store.clear(self._base(session_id))

    def __contains__(self, session_id: object) -> bool:
        return isinstance(session_id, str) and self._base(session_id) in self.store

    def __len__(self) -> int:
        return len(self.store)

    def record(self, session_id: str, question: str, spoken: str, *, interrupted: bool) -> None:
        self._pending.pop(session_id, None)
        text = spoken.strip()
        if interrupted:
            text = f"{text} …" if text else "…"
        self.store.append(
            self._base(session_id),
            Message(role="user", content=question),
            Message(role="assistant", content=text),
        )

    def discard(self, session_id: str) -> None:
        self._pending.pop(session_id, None)


class RobotAssistant(Assistant):
    """An :class:`~grokassist.Assistant` whose sources include the robot's live state.

    When a question is about the robot itself (battery, charging, task, faults)
    and the robot has reported its state, that report is the first source,
    cited as ``live:robot-state``. ``on_retrieve(seconds)`` reports retrieval time.
    """

    def __init__(self, *args: Any, live_state: Callable[[], RobotState | None] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.live_state = live_state
        self.on_retrieve: Callable[[float, float], None] | None = None

    def retrieve(self, question: str, *, filters: Filters | None = None) -> tuple[ScoredPassage, ...]:
        started = time.monotonic()
        passages = super().retrieve(question, filters=filters)
        state = self.live_state() if self.live_state else None
        if state is not None and _STATUS.search(question):
            live = Passage(
                id="live:robot-state#0",
                doc_id="live:robot-state",
                text=state.describe(),
                title="Robot status (live)",
                source="live:mqtt",
            )
            keep = self.settings.retrieval.max_sources - 1
            passages = (ScoredPassage(passage=live, score=1.0, dense_score=1.0), *passages[:keep])
        if self.on_retrieve is not None:
            self.on_retrieve(started, time.monotonic())
        return passages


class _Turn:
    def __init__(self, record: TurnRecord, segment: int, version: int) -> None:
        self.record = record
        self.segment = segment
        self.version = version
        self.committed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()


class VoicePipeline:
    """Listens, answers from the manual, speaks, can be interrupted, and acts only through the gate."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        vad: VoiceActivityDetector,
        stt: SpeechToText,
        tts: TextToSpeech,
        output: AudioOutput,
        link: MqttLink | None = None,
        gate: SafetyGate | None = None,
        tools: ToolRegistry | None = None,
        tool_backends: Sequence[ChatBackend] | None = None,
        options: PipelineOptions | None = None,
    ) -> None:
        self.assistant = assistant
        self.options = options or PipelineOptions()
        o = self.options
        self.history = assistant.sessions if isinstance(assistant.sessions, SpokenHistory) else None
        if self.history is None:
            self.history = SpokenHistory(
                assistant.sessions if isinstance(assistant.sessions, SessionStore) else None
            )
            assistant.sessions = self.history
        self.detector = TurnDetector(vad, pause_s=o.pause_s, end_s=o.end_s, preroll_s=o.preroll_s)
        self.stt = stt
        self.tts = tts
        self.player = Player(output, on_first_audio=self._on_first_audio)
        self.link = link
        self.gate = gate
        self.tools = tools or robot_tools()
        # who chooses actions (default: the assistant's chain); may differ from the answer chain,
        # e.g. the same model with a looser prompt budget (robot.app.spoken_backends)
        self.tool_backends = list(tool_backends) if tool_backends is not None else None
        self.records: list[TurnRecord] = []
        self.bargeins: list[dict[str, Any]] = []
        self._turns: dict[int, _Turn] = {}
        self._next_turn = 0
        self._speculative: _Turn | None = None
        self._active: _Turn | None = None  # the committed turn being answered or heard
        self._version = 0  # bumps on every pause/resume: stale transcripts are dropped
        self._segment_ended: dict[int, bool] = {}
        self._bargein: dict[str, Any] | None = None
        self._checking = False
        self._stt_inflight = 0
        self._held: tuple[int, int, TurnRecord] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        if isinstance(assistant, RobotAssistant):
            assistant.on_retrieve = self._on_retrieve
        self._retrieving: TurnRecord | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def warm_up(self) -> None:
        """Load every model now (first calls are slow), so that the first question is answered fast."""
        silence = b"\x00\x00" * 16000
        await anyio.to_thread.run_sync(self.stt.transcribe, silence)
        await self.tts.synthesize("Ready.")
        backends = await anyio.to_thread.run_sync(lambda: self.assistant.backends)
        for backend in backends:
            warm = getattr(backend, "warm_up", None)
            if warm is not None:
                await anyio.to_thread.run_sync(warm)
        with contextlib.suppress(GrokAssistError):
            stream = self.assistant.astream("What is the emergency stop?")
            try:
                async for _ in stream:
                    pass
            finally:
                await stream.aclose()  # type: ignore[attr-defined]

    async def run(self, source: AudioSource) -> list[TurnRecord]:
        """Run until the source ends and the last answer has been spoken."""
        player = asyncio.create_task(self.player.run())
        try:
            async for frame in source.frames():
                for event in self.detector.process(frame):
                    self._on_event(event)
                self._maybe_check_bargein(frame.time)
            await self._drain()
        finally:
            for task in list(self._tasks):
                task.cancel()
            for turn in list(self._turns.values()):
                if turn.task is not None:
                    turn.task.cancel()
            await asyncio.gather(
                *self._tasks, *(t.task for t in self._turns.values() if t.task), return_exceptions=True
            )
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
        return self.records

    def busy(self) -> bool:
        """Whether the owner is speaking or a turn is still being answered or heard."""
        if self.detector.in_speech or self._tasks:
            return True
        return any(not t.finished.is_set() for t in self._turns.values())

    async def _drain(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [t for t in self._turns.values() if not t.finished.is_set()]
            if not busy and not self._tasks:
                return
            await asyncio.sleep(0.05)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- events ----------------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        now = time.monotonic()
        log.debug("%s (active turn: %s)", type(event).__name__, self._active and self._active.record.id)
        if isinstance(event, SpeechStarted):
            self._segment_ended[self.detector.segment] = False
            active = self._active
            if active is not None and not active.finished.is_set() and self._bargein is None:
                self.player.pause()  # audio stops within one slice; confirmed or resumed later
                self._bargein = {
                    "turn": active.record.id,
                    "detected": now,
                    "speech_start": event.speech_start,
                    "segment": self.detector.segment,
                    "confirmed": False,
                }
        elif isinstance(event, SpeechPaused):
            self._version += 1
            self._spawn(self._transcribe(event.segment, self._version, event.audio, event.speech_end, now))
        elif isinstance(event, SpeechResumed):
            self._version += 1
            if self._speculative is not None and self._speculative.segment == event.segment:
                self._cancel(self._speculative, speculative=True)
                self._speculative = None
        elif isinstance(event, TurnEnded):
            self._segment_ended[event.segment] = True
            turn = self._speculative
            held, self._held = self._held, None
            if turn is not None and turn.segment == event.segment and turn.version == self._version:
                self._commit(turn)
            elif held is not None and held[0] == event.segment and held[1] == self._version:
                self._start_turn(held[2], event.segment, held[1], commit=True)
            elif self._bargein is not None and self._bargein["segment"] == event.segment:
                # no transcript with words for this segment (yet): if none comes, it was noise
                self._spawn(self._settle_noise(event.segment))

    def _maybe_check_bargein(self, now: float) -> None:
        b = self._bargein
        if b is None or b["confirmed"] or self._checking or not self.detector.in_speech:
            return
        if now - b["speech_start"] >= self.options.confirm_s and not b.get("checked"):
            b["checked"] = True
            self._checking = True
            self._spawn(self._check_bargein(self.detector.audio_so_far()))

    async def _check_bargein(self, audio: bytes) -> None:
        try:
            transcript = await anyio.to_thread.run_sync(self.stt.transcribe, audio)
            if self._has_words(transcript, interrupting=True):
                self._confirm_interruption()
        finally:
            self._checking = False

    async def _settle_noise(self, segment: int) -> None:
        while self._checking or self._stt_inflight:  # let pending transcriptions land first
            await asyncio.sleep(0.02)
        b = self._bargein
        if b is not None and b["segment"] == segment and not b["confirmed"]:
            self._resume_after_noise()  # the segment is over and nothing in it had words

    def _has_words(self, transcript: Transcript, *, interrupting: bool = False) -> bool:
        text = transcript.text
        if is_non_speech(text):
            return False
        if not interrupting or is_stop(text) or _WAIT.match(text):
            return True
        # distinct words: Whisper turns a hum into "then, then, then"
        return len({w.lower() for w in re.findall(r"[A-Za-z0-9']+", text)}) >= self.options.min_words

    def _confirm_interruption(self) -> None:
        b = self._bargein
        if b is None or b["confirmed"]:
            return
        b["confirmed"] = True
        b["confirmed_at"] = time.monotonic()
        turn = self._turns.get(b["turn"])
        if turn is not None:
            self._interrupt(turn)
        self.bargeins.append(b)
        self._bargein = None
        self.player.resume()  # nothing of the old turn is left to play

    def _resume_after_noise(self) -> None:
        b = self._bargein
        self._bargein = None
        if b is not None:
            b["false_interruption"] = True
            self.bargeins.append(b)
        self.player.resume()

    async def _transcribe(
        self, segment: int, version: int, audio: bytes, speech_end: float, paused: float
    ) -> None:
        started = time.monotonic()
        self._stt_inflight += 1
        try:
            transcript = await anyio.to_thread.run_sync(self.stt.transcribe, audio)
        finally:
            self._stt_inflight -= 1
        ended = time.monotonic()
        log.debug("heard %r (segment %d, version %d/%d)", transcript.text, segment, version, self._version)
        if version != self._version:
            return  # the owner went on talking: a newer pause will be transcribed
        interrupting = self._bargein is not None and self._bargein["segment"] == segment
        if not self._has_words(transcript, interrupting=interrupting):
            if self._segment_ended.get(segment) and self._bargein is not None:
                self._resume_after_noise()
            return
        text = transcript.text.strip()
        if self._bargein is not None and self._bargein["segment"] == segment:
            self._confirm_interruption()
        elif self._active is not None and not self._active.finished.is_set() and not is_stop(text):
            self._interrupt(self._active)  # a new question while the last answer is still being prepared
        if self._speculative is not None:
            self._cancel(self._speculative, speculative=True)
        record = TurnRecord(
            id=0,
            transcript=text,
            speech_end=speech_end,
            pause_detected=paused,
            stt_start=started,
            stt_end=ended,
        )
        ended_already = bool(self._segment_ended.get(segment))
        if is_stop(text):
            record.kind = "stop"
            if self._active is not None and not self._active.finished.is_set():
                self._interrupt(self._active)
            self._start_turn(record, segment, version, commit=True)  # stopping cannot wait
        elif ended_already:
            self._start_turn(record, segment, version, commit=True)
        elif self.options.speculative and _COMPLETE.search(text):
            self._start_turn(record, segment, version, commit=False)
        else:
            # it does not sound finished ("Optimus," ...): keep the transcript for the end of the turn
            self._held = (segment, version, record)

    def _start_turn(self, record: TurnRecord, segment: int, version: int, *, commit: bool) -> None:
        record.id = self._new_turn_id()
        turn = _Turn(record, segment, version)
        self._turns[record.id] = turn
        self.records.append(record)
        self.player.open_turn(record.id, hold=True)
        if commit:
            self._commit(turn)
        else:
            self._speculative = turn
        turn.task = asyncio.create_task(self._run_turn(turn))

    def _new_turn_id(self) -> int:
        self._next_turn += 1
        return self._next_turn

    def _commit(self, turn: _Turn) -> None:
        if self._speculative is turn:
            self._speculative = None
        turn.record.committed = time.monotonic()
        self._active = turn
        turn.committed.set()
        self.player.release(turn.record.id)
        if self.link is not None and turn.record.transcript:
            self._safe(self.link.publish_transcript, turn.record.id, turn.record.transcript)

    def _cancel(self, turn: _Turn, *, speculative: bool) -> None:
        turn.record.cancelled = speculative
        turn.record.cancel_requested = time.monotonic()
        self.player.drop(turn.record.id)
        if turn.task is not None and not turn.task.done():
            turn.task.cancel()
        assert self.history is not None
        self.history.discard(self._session(turn))

    def _interrupt(self, turn: _Turn) -> None:
        if turn.finished.is_set() or turn.record.interrupted:
            return
        record = turn.record
        record.interrupted = True
        record.cancel_requested = time.monotonic()
        record.audio_stopped = self.player.last_audio(record.id)
        record.spoken_text = self.player.spoken_text(record.id)
        self.player.drop(record.id)
        if turn.task is not None and not turn.task.done():
            turn.task.cancel()
        if self._active is turn:
            self._active = None

    def _on_first_audio(self, turn_id: int, at: float) -> None:
        turn = self._turns.get(turn_id)
        if turn is not None and turn.record.first_audio is None:
            turn.record.first_audio = at

    def _on_retrieve(self, started: float, ended: float) -> None:
        record = self._retrieving
        if record is not None and record.retrieval_start is None:
            record.retrieval_start, record.retrieval_end = started, ended

    def _session(self, turn: _Turn) -> str:
        return f"{self.options.session}#{turn.record.id}"

    def _safe(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except RobotError as exc:
            log.error("%s", exc)

    # -- one turn --------------------------------------------------------------------

    async def _run_turn(self, turn: _Turn) -> None:
        record = turn.record
        try:
            if record.kind == "stop":
                await self._act_stop(turn)
            elif self.gate is not None and self.gate.pending:
                await turn.committed.wait()
                await self._confirmation(turn)
            elif self.options.actions and self.gate is not None and looks_like_command(record.transcript):
                if not await self._act(turn):
                    await self._answer(turn)
            else:
                await self._answer(turn)
            self.player.finish_turn(record.id)
            await turn.committed.wait()
            while not self.player.all_played(record.id):
                await asyncio.sleep(0.02)
            record.spoken_text = self.player.spoken_text(record.id)
            self._finish(turn, interrupted=False)
        except asyncio.CancelledError:
            record.stream_closed = record.stream_closed or time.monotonic()
            if not record.cancelled:
                self._finish(turn, interrupted=True)
            raise
        except GrokAssistError as exc:
            log.error("turn %d failed: %s", record.id, exc)
            self._finish(turn, interrupted=False)
        finally:
            turn.finished.set()
            if self._active is turn:
                self._active = None

    def _finish(self, turn: _Turn, *, interrupted: bool) -> None:
        record = turn.record
        if record.cancelled:
            return
        assert self.history is not None
        if record.kind in ("answer", "action", "confirmation"):
            self.history.record(
                self._session(turn), record.transcript, record.spoken_text, interrupted=interrupted
            )
        if self.link is not None:
            payload = {
                "text": record.answer_text,
                "spoken": record.spoken_text,
                "interrupted": interrupted,
                "citations": record.citations,
                "kind": record.kind,
            }
            self._safe(self.link.publish_answer, record.id, payload)

    async def _say(self, turn: _Turn, index: int, text: str) -> None:
        text = speakable(text)
        if not text:
            return
        pcm = await self.tts.synthesize(text)
        if turn.record.tts_first_end is None:
            turn.record.tts_first_end = time.monotonic()
        self.player.enqueue(turn.record.id, index, text, pcm, self.tts.sample_rate)

    async def _answer(self, turn: _Turn) -> None:
        record = turn.record
        o = self.options
        aggregator = SentenceAggregator(first_clause_words=o.first_clause_words)
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        first_said = asyncio.Event()

        async def speak() -> None:
            index = 0
            while (piece := await pieces.get()) is not None:
                await self._say(turn, index, piece)
                first_said.set()
                index += 1
            first_said.set()

        speaker = asyncio.create_task(speak())
        self._retrieving = record
        stream = self.assistant.astream(
            record.transcript,
            session=self._session(turn),
            filters=o.filters,
            settings=GenerationSettings(max_tokens=o.max_answer_tokens),
        )
        answer: Answer | None = None
        try:
            async for item in stream:
                if isinstance(item, Answer):
                    answer = item
                    continue
                if record.first_text is None:
                    record.first_text = time.monotonic()
                record.answer_text += item
                for piece in aggregator.feed(item):
                    if record.first_piece is None:
                        record.first_piece, record.first_piece_text = time.monotonic(), piece
                    pieces.put_nowait(piece)
                if record.first_piece is not None and not first_said.is_set():
                    # the first words are on the critical path: no more tokens until they are
                    # synthesised (generation is pulled, so llama.cpp leaves the cores to Piper)
                    await first_said.wait()
            for piece in aggregator.flush():
                if record.first_piece is None:
                    record.first_piece, record.first_piece_text = time.monotonic(), piece
                pieces.put_nowait(piece)
            pieces.put_nowait(None)
            await speaker
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            record.stream_closed = time.monotonic()
            speaker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await speaker
        if answer is not None:
            record.answer_text = answer.text
            record.citations = [c.source for c in answer.citations]

    async def _act_stop(self, turn: _Turn) -> None:
        record = turn.record
        from ..types import ToolCall

        if self.gate is None:
            return
        decision, approved = self.gate.evaluate(
            ActionRequest(call=ToolCall(name="stop"), origin="speech", utterance=record.transcript)
        )
        record.decision = decision.model_dump(mode="json")
        if self.link is not None:
            self._safe(self.link.publish_decision, decision)
            if approved is not None:
                self._safe(self.link.publish_action, approved)

    async def _act(self, turn: _Turn) -> bool:
        """Choose and gate an action; False when the words ask for none (then they are answered)."""
        record = turn.record
        assert self.gate is not None
        backends = self.tool_backends
        if not backends:
            backends = await anyio.to_thread.run_sync(lambda: self.assistant.backends)
        try:
            call = await achoose_tool_call(backends, record.transcript, self.tools)
        except GrokAssistError as exc:
            log.warning("no action chosen for %r: %s", record.transcript, exc)
            return False
        if call is None:
            return False
        record.kind = "action"
        decision, approved = self.gate.evaluate(
            ActionRequest(call=call, origin="speech", utterance=record.transcript)
        )
        record.decision = decision.model_dump(mode="json")
        record.answer_text = decision.say
        if record.first_text is None:
            record.first_text = record.first_piece = time.monotonic()
            record.first_piece_text = decision.say
        await self._say(turn, 0, decision.say)
        await turn.committed.wait()  # never act on words the owner has not finished
        if self.link is not None:
            self._safe(self.link.publish_decision, decision)
            if approved is not None:
                self.link.publish_action(approved)
        return True

    async def _confirmation(self, turn: _Turn) -> None:
        record = turn.record
        assert self.gate is not None
        result = self.gate.answer_confirmation(record.transcript)
        if result is None:
            await self._answer(turn)
            return
        decision, approved = result
        record.kind = "confirmation"
        record.decision = decision.model_dump(mode="json")
        record.answer_text = decision.say
        if self.link is not None:
            self._safe(self.link.publish_decision, decision)
            if approved is not None:
                self.link.publish_action(approved)
        await self._say(turn, 0, decision.say)
