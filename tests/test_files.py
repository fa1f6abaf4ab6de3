"""The data folder's files: a file appears whole or not at all, also when the disk fills up
(ENOSPC injected at the write and at the flush) or the writer is cancelled; user input never
becomes a path; the disk is counted once per file."""

from __future__ import annotations

import asyncio
import errno
import os
import pathlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, wait_done
from sayfile.app import create_app
from sayfile.settings import Settings
from sayfile.store.files import AudioFiles
from sayfile.store.records import new_job_id
from sayfile.whole_files import (
    UNFINISHED,
    is_unfinished,
    own_unfinished_name,
    put_in_place,
    unfinished_name,
    written_whole,
)


@pytest.fixture
def files(tmp_path: Path) -> AudioFiles:
    folder = AudioFiles(tmp_path / "data")
    folder.ensure()
    return folder


def disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_file_appears_under_its_name_only_when_whole(files: AudioFiles) -> None:
    target = files.path(new_job_id(), "mp3")
    with written_whole(target) as part:
        part.write_bytes(b"first half")
        assert not target.exists()
        with part.open("ab") as more:
            more.write(b", second half")
    assert target.read_bytes() == b"first half, second half"
    assert names(files.root) == [target.name]


def test_a_disk_that_fills_up_while_writing_leaves_no_file(files: AudioFiles) -> None:
    target = files.path(new_job_id(), "mp3")
    with pytest.raises(OSError) as full, written_whole(target) as part:
        part.write_bytes(b"some audio")
        disk_full()
    assert full.value.errno == errno.ENOSPC
    assert names(files.root) == []


def test_a_disk_that_fills_up_at_the_flush_leaves_no_file(
    files: AudioFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = files.path(new_job_id(), "mp3")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as full, written_whole(target) as part:
        part.write_bytes(b"all the audio")
    assert full.value.errno == errno.ENOSPC
    assert names(files.root) == []


def test_a_failed_rewrite_keeps_the_file_that_was_there(files: AudioFiles) -> None:
    target = files.path(new_job_id(), "mp3")
    target.write_bytes(b"the old audio")
    with pytest.raises(OSError), written_whole(target) as part:
        part.write_bytes(b"the new")
        disk_full()
    assert target.read_bytes() == b"the old audio"
    assert names(files.root) == [target.name]


@pytest.mark.parametrize("stop", [asyncio.CancelledError, KeyboardInterrupt])
def test_a_writer_stopped_half_way_leaves_no_file(
    files: AudioFiles, stop: type[BaseException]
) -> None:
    target = files.path(new_job_id(), "opus")
    with pytest.raises(stop), written_whole(target) as part:
        part.write_bytes(b"half")
        raise stop()
    assert names(files.root) == []


@pytest.mark.parametrize(
    ("job_id", "extension"),
    [
        ("../../etc/passwd", "mp3"),
        ("x", "mp3"),
        ("", "mp3"),
        ("a" * 31 + "/", "mp3"),
        (None, "mp3/../../x"),
        (None, "mp3.part"),
        (None, ""),
    ],
)
def test_user_input_never_becomes_a_path(
    files: AudioFiles, job_id: str | None, extension: str
) -> None:
    with pytest.raises(ValueError, match="not a job id"):
        files.path(new_job_id() if job_id is None else job_id, extension)
    if job_id is not None:
        with pytest.raises(ValueError, match="not a job id"):
            files.book_dir(job_id)
        with pytest.raises(ValueError, match="not a job id"):
            files.remove_book(job_id)


def test_timings_round_trip_and_go_with_the_audio(files: AudioFiles) -> None:
    job = new_job_id()
    timings: dict[str, object] = {"duration": 1.5, "pieces": [{"text": "你好, café"}]}
    files.write_timings(job, timings)
    assert files.read_timings(job) == timings
    audio = files.path(job, "mp3")
    audio.write_bytes(b"audio")
    audio.with_name(audio.name + UNFINISHED).write_bytes(b"a rewrite under way")
    files.remove(job, "mp3")
    assert names(files.root) == []
    with pytest.raises(FileNotFoundError):
        files.read_timings(job)
    files.remove(job, "mp3")  # removing what is gone is fine


def test_a_removed_job_leaves_no_unfinished_file_of_this_version_or_an_earlier_one(
    files: AudioFiles,
) -> None:
    """Earlier versions wrote `<id>.mp3.part`: a job deleted after an upgrade mid-job loses
    that file too."""
    job = new_job_id()
    audio = files.path(job, "mp3")
    audio.with_name(audio.name + UNFINISHED).write_bytes(b"this version's")
    audio.with_name(audio.name + ".part").write_bytes(b"an earlier version's")
    files.write_timings(job, {"duration": 1.0})
    files.remove(job, "mp3")
    assert names(files.root) == []


def test_the_sweep_at_start_removes_a_done_jobs_unfinished_files_of_any_version(
    tmp_path: Path,
) -> None:
    """A server upgraded in the middle of a job finds files the old one left unfinished
    (`.part`) beside the job's finished ones: the sweep removes both kinds and keeps the job's
    own files."""
    settings = Settings(data_dir=tmp_path / "data", **TONES)
    with TestClient(create_app(settings)) as client:
        job = client.post("/jobs", json={"text": "Left over.", "voice": "tone:beep"}).json()
        assert wait_done(client, job["status_url"])["status"] == "done"
    audio = tmp_path / "data" / "audio"
    kept = sorted(path.name for path in audio.iterdir())
    assert f"{job['id']}.mp3" in kept
    (audio / f"{job['id']}.mp3.part").write_bytes(b"an earlier version's")
    (audio / f"{job['id']}.mp3{UNFINISHED}").write_bytes(b"this version's")
    with TestClient(create_app(settings)) as client:
        assert sorted(path.name for path in audio.iterdir()) == kept
        assert client.get(job["audio_url"]).status_code == 200


def test_a_name_of_its_own_reads_as_begun_and_is_unfinished(tmp_path: Path) -> None:
    """Two writers racing for one target each stage it under a name of their own, which tells
    a looker the part is begun and unfinished; a writer that streams into it (the
    synthesizer) writes there, with no second suffix."""
    target = tmp_path / "part-0007.mp3"
    first, second = own_unfinished_name(target), own_unfinished_name(target)
    assert first != second
    assert first.name.startswith("part-0007.") and is_unfinished(first.name)
    assert unfinished_name(first, in_place=True) == first  # not ….mp3.unfinished.unfinished
    first.write_bytes(b"audio")
    put_in_place([(first, target)])
    assert names(tmp_path) == [target.name]
    assert target.read_bytes() == b"audio"


@pytest.mark.parametrize("in_place", [True, False])
def test_a_final_name_is_written_beside_itself_either_way(tmp_path: Path, in_place: bool) -> None:
    target = tmp_path / "0123.mp3"
    assert unfinished_name(target, in_place=in_place) == tmp_path / f"0123.mp3{UNFINISHED}"


def test_a_staged_name_is_streamed_into_in_place_and_rewritten_beside_itself(
    tmp_path: Path,
) -> None:
    """The synthesizer streams a part into its staged name (`in_place`); a rewrite of a staged
    file (chapter marks added to a staged book) writes beside it, since it reads the staged
    file meanwhile: both names stay unfinished, and they differ."""
    staged = own_unfinished_name(tmp_path / "book.m4b")
    streamed, rewritten = (
        unfinished_name(staged, in_place=True),
        unfinished_name(staged, in_place=False),
    )
    assert streamed == staged
    assert rewritten != staged and rewritten.parent == staged.parent
    assert is_unfinished(rewritten.name) and rewritten.name.startswith(staged.name)


def test_a_staged_file_rewritten_from_itself_keeps_what_it_read(tmp_path: Path) -> None:
    """A staged book is rewritten with its chapter marks, reading the staged file while the
    new one is written: the new one is never the file being read (seen in CI as an m4b book
    cut to its first seconds)."""
    staged = own_unfinished_name(tmp_path / "book.m4b")
    staged.write_bytes(b"the whole book")
    with written_whole(staged) as unfinished:
        assert unfinished != staged
        unfinished.write_bytes(staged.read_bytes() + b" with marks")
    assert staged.read_bytes() == b"the whole book with marks"
    assert names(tmp_path) == [staged.name]


def _half_then_full(self: pathlib.Path, data: str, *args: Any, **kwargs: Any) -> int:
    with self.open("w", encoding="utf-8") as file:
        file.write(data[: len(data) // 2])
    disk_full()
    return 0


def test_timings_that_meet_a_full_disk_leave_the_old_ones(
    files: AudioFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = new_job_id()
    files.write_timings(job, {"duration": 1.0})
    monkeypatch.setattr(pathlib.Path, "write_text", _half_then_full)
    with pytest.raises(OSError):
        files.write_timings(job, {"duration": 2.0, "pieces": ["long"] * 100})
    monkeypatch.undo()
    assert files.read_timings(job) == {"duration": 1.0}


def test_timings_that_meet_a_full_disk_leave_no_part_file(
    files: AudioFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = new_job_id()
    monkeypatch.setattr(pathlib.Path, "write_text", _half_then_full)
    with pytest.raises(OSError):
        files.write_timings(job, {"duration": 2.0})
    monkeypatch.undo()
    assert names(files.root) == []


def test_a_link_shares_the_file_and_says_when_the_source_is_gone(files: AudioFiles) -> None:
    source = files.path(new_job_id(), "mp3")
    source.write_bytes(b"audio")
    target = files.path(new_job_id(), "mp3")
    assert files.link(source, target)
    assert target.read_bytes() == b"audio"
    assert files.link(source, target)  # already there: fine
    source.unlink()
    assert not files.link(source, files.path(new_job_id(), "mp3"))
    assert target.read_bytes() == b"audio"  # the other name keeps it


def test_the_disk_is_counted_once_per_file_with_what_each_job_wrote(files: AudioFiles) -> None:
    first, second = new_job_id(), new_job_id()
    done = files.path(first, "mp3")
    done.write_bytes(b"\0" * 1000)
    assert files.link(done, files.path(second, "mp3"))
    working = new_job_id()
    part = files.path(working, "wav")
    part.with_name(part.name + UNFINISHED).write_bytes(b"\0" * 300)
    (files.root / "stray.tmp").write_bytes(b"\0" * 7)  # not a job's, but on the disk
    total, parts = files.usage()
    assert total == 1307  # the linked file once
    assert parts == {first: 1000, second: 1000, working: 300}  # each job's own names


def test_a_file_deleted_while_the_disk_is_counted_is_skipped(tmp_path: Path) -> None:
    class Racing(AudioFiles):
        def listing(self) -> list[Path]:
            found = super().listing()
            found[0].unlink()  # an expiry removes it between the listing and the stat
            return found

    files = Racing(tmp_path / "data")
    files.ensure()
    files.path(new_job_id(), "mp3").write_bytes(b"\0" * 10)
    files.path(new_job_id(), "mp3").write_bytes(b"\0" * 20)
    total, _ = files.usage()
    assert total in (10, 20)


def test_a_books_folder_goes_with_its_parts(files: AudioFiles) -> None:
    job = new_job_id()
    folder = files.book_dir(job)
    (folder / "chapter-1").mkdir(parents=True)
    (folder / "chapter-1" / "part-1.wav").write_bytes(b"audio")
    assert files.book_listing() == [folder]
    files.remove_book(job)
    assert files.book_listing() == []
    files.remove_book(job)  # again: nothing to do
