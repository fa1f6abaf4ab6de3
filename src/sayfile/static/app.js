// The page beyond its plain form: a live character count, voice lists from /voices, choices
// remembered in this browser, Listen, Get link with progress (then subtitles and the sentence
// being spoken), recent links, inline errors.
// Without this script the page still works: Download is a plain form post.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("app-data").textContent);
  const t = data.messages;
  const limits = data.limits;
  const form = $("speech-form");
  const root = form.getAttribute("action").replace(/\/speech$/, "");
  const text = $("text");
  const count = $("count");
  const overLimit = $("over-limit");
  const language = $("language");
  const voice = $("voice");
  const format = $("format");
  const speed = $("speed");
  const textFormat = $("text-format");
  const keyInput = $("api-key");
  const rememberKey = $("remember-key");
  const formError = $("form-error");
  const getLink = $("get-link");
  const bookField = $("book-field");
  const book = $("book-file");
  const bookClear = $("book-clear");
  const listen = $("listen");
  const preview = $("preview");
  const previewStatus = $("preview-status");
  const section = $("job");
  const bar = $("progress");
  const jobStatus = $("job-status");
  const cancel = $("cancel");
  const jobError = $("job-error");
  const result = $("job-result");
  const link = $("link");
  const copy = $("copy");
  const copyStatus = $("copy-status");
  const expires = $("expires");
  const save = $("save");
  const subtitlesSrt = $("subtitles-srt");
  const subtitlesVtt = $("subtitles-vtt");
  const player = $("player");
  const nowSpeaking = $("now-speaking");
  const chaptersBox = $("chapters-box");
  const chaptersHint = $("chapters-hint");
  const chapterList = $("chapters");
  const recent = $("recent");
  const recentList = $("recent-list");

  const PREFS = "sayfile.prefs";
  const KEY = "sayfile.apiKey";
  const RECENT = "sayfile.recent";
  const MAX_RECENT = 8;
  const POLL_MS = 700;
  const CHAPTERS_POLL_MS = 1000;
  const LONGEST_TIMER_MS = 2147483647;

  // localStorage can be missing or refuse (private windows, full quota): the page then
  // simply forgets.
  const store = {
    get(key, fallback) {
      try {
        const value = localStorage.getItem(key);
        return value === null ? fallback : JSON.parse(value);
      } catch (e) {
        return fallback;
      }
    },
    set(key, value) {
      try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* forget */ }
    },
    remove(key) {
      try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
    },
  };

  const numbers = new Intl.NumberFormat(data.lang);
  const seconds = new Intl.NumberFormat(data.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const times = new Intl.DateTimeFormat(data.lang, { dateStyle: "medium", timeStyle: "short" });

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
  }

  // Characters as the server counts them (code points, so an emoji is one).
  function chars(value) {
    const pairs = value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
    return value.length - (pairs ? pairs.length : 0);
  }

  function element(tag, textContent, className) {
    const node = document.createElement(tag);
    if (textContent !== undefined) { node.textContent = textContent; }
    if (className) { node.className = className; }
    return node;
  }

  // ---- errors in plain words -------------------------------------------------------------

  function showError(box, lead, detail) {
    box.replaceChildren(element("p", lead));
    if (detail && detail !== lead) { box.append(element("p", t.details + " " + detail, "detail")); }
    box.hidden = false;
  }

  function clearErrors() {
    for (const box of [formError, jobError, $("server-error")]) {
      if (box) { box.hidden = true; box.replaceChildren(); }
    }
  }

  async function problemOf(response) {
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    const error = body && body.error ? body.error : {};
    return {
      status: response.status, code: error.code || "", message: error.message || "", field: error.field || "",
    };
  }

  // The lead sentence in the page's language, chosen by the error's code; the server's own
  // message (English) follows as the detail.
  function describe(problem, limit) {
    if (problem.field === "file") { return t.book_error; }
    if (problem.code === "text_too_long" && chosenBook()) { return t.error_text_too_long; }
    if (problem.code === "text_too_long") {
      return fill(t.error_text_too_long_count, { count: numbers.format(chars(text.value)), limit: numbers.format(limit) });
    }
    if (problem.status === 401 || problem.status === 403) { return t.error_key; }
    return t["error_" + problem.code] || fill(t.error_other, { status: problem.status });
  }

  async function showProblem(box, response, limit) {
    const problem = await problemOf(response);
    showError(box, describe(problem, limit), problem.message);
    return problem;
  }

  // ---- API key ---------------------------------------------------------------------------

  function apiKey() { return keyInput ? keyInput.value.trim() : ""; }

  function headers(extra) {
    const all = Object.assign({ Accept: "application/json" }, extra || {});
    const key = apiKey();
    if (key) { all.Authorization = "Bearer " + key; }
    return all;
  }

  if (keyInput && rememberKey) {
    const kept = store.get(KEY, "");
    if (kept) { keyInput.value = kept; rememberKey.checked = true; }
    const keep = () => {
      if (rememberKey.checked && apiKey()) { store.set(KEY, apiKey()); } else { store.remove(KEY); }
    };
    rememberKey.addEventListener("change", keep);
    keyInput.addEventListener("input", keep);
  }

  // ---- the text and its count ------------------------------------------------------------

  function updateCount() {
    const n = chars(text.value);
    const over = n > limits.direct;
    count.textContent = fill(t.count, { count: numbers.format(n), limit: numbers.format(limits.direct) });
    count.classList.toggle("over", over);
    overLimit.hidden = !over;
  }
  text.addEventListener("input", updateCount);

  // ---- languages and voices --------------------------------------------------------------

  const allVoices = Array.from(voice.children, (node) => node.cloneNode(true));
  const defaultLabel = fill(t.voice_default, { name: data.default_voice.name }) +
    (data.default_voice.neural ? " ★ " + t.neural : "");
  const voiceLists = new Map();
  let voiceTurn = 0;

  function hasOption(select, value) {
    return Array.from(select.options).some((option) => option.value === value);
  }

  function languageLabel(tag) {
    const option = Array.from(language.options).find((o) => o.value === tag);
    return option ? option.textContent : tag;
  }

  // The server labels languages in English; in another interface language the browser's
  // own names read better ("英语（美国） — en-US").
  function relabelLanguages() {
    if (data.lang === "en" || !window.Intl || !Intl.DisplayNames) { return; }
    let names;
    try { names = new Intl.DisplayNames([data.lang], { type: "language", fallback: "none" }); } catch (e) { return; }
    const labels = new Map();
    const options = Array.from(language.options).slice(1);
    for (const option of options) {
      let name;
      try { name = names.of(option.value); } catch (e) { name = undefined; }
      if (name) { option.textContent = name + " — " + option.value; }
      labels.set(option.value, option.textContent);
    }
    const collator = new Intl.Collator(data.lang);
    options.sort((a, b) => collator.compare(a.textContent, b.textContent));
    const chosen = language.value;
    language.append(...options);
    language.value = chosen;
    const groups = allVoices.filter((node) => node.tagName === "OPTGROUP");
    for (const group of groups) {
      const tag = group.label.split(" — ").pop();
      if (labels.has(tag)) { group.label = labels.get(tag); }
    }
    groups.sort((a, b) => collator.compare(a.label, b.label));
    allVoices.splice(1, allVoices.length - 1, ...groups);
  }

  async function voicesFor(tag) {
    if (!voiceLists.has(tag)) {
      const response = await fetch(root + "/voices?language=" + encodeURIComponent(tag), { headers: headers() });
      if (!response.ok) { throw new Error("voices " + response.status); }
      voiceLists.set(tag, await response.json());
    }
    return voiceLists.get(tag);
  }

  function voiceOption(v) {
    return new Option(v.name + (v.quality === "neural" ? " ★ " + t.neural : ""), v.id);
  }

  // The voice list follows the language: every voice (grouped) for "any", else the voices
  // /voices gives for it, best first, still grouped by their own language tag.
  async function showVoices(keep) {
    const turn = ++voiceTurn;
    const tag = language.value;
    if (!tag) {
      voice.replaceChildren(...allVoices.map((node) => node.cloneNode(true)));
      voice.options[0].textContent = defaultLabel;
    } else {
      let list;
      try { list = await voicesFor(tag); } catch (e) { return; }
      if (turn !== voiceTurn) { return; }
      const groups = new Map();
      for (const v of list) {
        if (!groups.has(v.language)) { groups.set(v.language, element("optgroup")); }
        groups.get(v.language).append(voiceOption(v));
      }
      for (const [groupTag, group] of groups) { group.label = languageLabel(groupTag); }
      voice.replaceChildren(new Option(t.voice_best, ""), ...groups.values());
    }
    voice.value = keep && hasOption(voice, keep) ? keep : "";
    showVoiceSample();
  }

  function savePrefs() {
    store.set(PREFS, {
      language: language.value, voice: voice.value, format: format.value, speed: speed.value, textFormat: textFormat.value,
    });
  }

  language.addEventListener("change", async () => { await showVoices(""); savePrefs(); });
  for (const control of [voice, format, speed, textFormat]) { control.addEventListener("change", savePrefs); }

  // A page that came back with an error keeps what was sent; otherwise the last choices.
  async function restorePrefs() {
    const prefs = store.get(PREFS, null);
    if (form.hasAttribute("data-kept") || !prefs) {
      await showVoices(voice.value);
      return;
    }
    if (typeof prefs.language === "string" && hasOption(language, prefs.language)) { language.value = prefs.language; }
    if (hasOption(format, prefs.format)) { format.value = prefs.format; }
    if (hasOption(textFormat, prefs.textFormat)) { textFormat.value = prefs.textFormat; }
    if (prefs.speed) { speed.value = prefs.speed; }
    await showVoices(prefs.voice);
  }

  function requestBody() {
    const body = { text: text.value, format: format.value, speed: Number(speed.value || 1), text_format: textFormat.value };
    if (voice.value) { body.voice = voice.value; }
    if (language.value) { body.language = language.value; }
    return body;
  }

  // ---- a book file instead of the text (Get link only) -----------------------------------

  function chosenBook() { return book.files && book.files.length ? book.files[0] : null; }

  function showBookMode() { bookClear.hidden = !chosenBook(); }
  book.addEventListener("change", showBookMode);
  bookClear.addEventListener("click", () => {
    book.value = "";
    showBookMode();
    text.focus(); // the Clear button is gone: keep the keyboard somewhere useful
  });

  // The job to ask for: the text as JSON, or the chosen book as a form upload with the same
  // choices (the browser writes the multipart Content-Type itself).
  function jobRequest() {
    const file = chosenBook();
    if (!file) {
      return {
        title: titleOf(text.value),
        init: { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(requestBody()) },
      };
    }
    const body = new FormData();
    body.append("file", file);
    for (const [name, value] of Object.entries(requestBody())) {
      if (name !== "text") { body.append(name, String(value)); }
    }
    return { title: titleOf(file.name), init: { method: "POST", headers: headers(), body } };
  }

  // ---- Download (the plain form post) ----------------------------------------------------

  form.addEventListener("submit", (event) => {
    clearErrors();
    const n = chars(text.value);
    if (n > limits.direct) {
      event.preventDefault();
      showError(formError, fill(t.error_text_too_long_direct, {
        count: numbers.format(n), limit: numbers.format(limits.direct), job: numbers.format(limits.job),
      }));
      text.focus();
      return;
    }
    savePrefs();
  });

  // ---- Listen ----------------------------------------------------------------------------

  let previewUrl = null;

  listen.addEventListener("click", async () => {
    clearErrors();
    const n = chars(text.value);
    if (!text.value.trim()) { showError(formError, t.error_empty); text.focus(); return; }
    if (n > limits.preview) { showError(formError, fill(t.listen_too_long, { limit: numbers.format(limits.preview) })); return; }
    if (!form.reportValidity()) { return; }
    listen.disabled = true;
    previewStatus.textContent = t.listen_working;
    try {
      // The preview is always mp3, which every browser plays; the chosen format is for files.
      const response = await fetch(root + "/speech", {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", Accept: "audio/mpeg, application/json" }),
        body: JSON.stringify(Object.assign(requestBody(), { format: "mp3" })),
      });
      if (!response.ok) { await showProblem(formError, response, limits.direct); return; }
      const audio = await response.blob();
      if (previewUrl) { URL.revokeObjectURL(previewUrl); }
      previewUrl = URL.createObjectURL(audio);
      preview.src = previewUrl;
      preview.hidden = false;
      preview.play().catch(() => { /* autoplay refused: the controls are there */ });
    } catch (e) {
      showError(formError, t.error_network);
    } finally {
      previewStatus.textContent = "";
      listen.disabled = false;
    }
  });

  // ---- recent links (this browser only) --------------------------------------------------

  function titleOf(value) {
    const words = value.trim().replace(/\s+/g, " ");
    return words.length > 40 ? words.slice(0, 40) + "…" : words;
  }

  function alive(item) { return item && item.id && Date.parse(item.expires_at) > Date.now(); }

  function recentJobs() {
    const list = store.get(RECENT, []);
    return Array.isArray(list) ? list.filter(alive) : [];
  }

  function keepRecent(list) {
    store.set(RECENT, list.slice(0, MAX_RECENT));
    renderRecent();
  }

  function rememberJob(job, title) {
    const item = {
      id: job.id, title, status: job.status, progress: job.progress,
      status_url: job.status_url, audio_url: job.audio_url, expires_at: job.expires_at,
    };
    keepRecent([item].concat(recentJobs().filter((j) => j.id !== job.id)));
  }

  // Progress alone changes one line in place, so keyboard focus in the list survives it.
  function touchJob(job) {
    const list = recentJobs();
    const item = list.find((j) => j.id === job.id);
    if (!item) { return; }
    const changed = item.status !== job.status || item.expires_at !== job.expires_at;
    Object.assign(item, { status: job.status, progress: job.progress, expires_at: job.expires_at });
    if (changed) { keepRecent(list); return; }
    store.set(RECENT, list);
    const state = recentList.querySelector('li[data-job="' + CSS.escape(job.id) + '"] .state');
    if (state) { state.textContent = stateOf(item); }
  }

  function forgetJob(id) { keepRecent(recentJobs().filter((j) => j.id !== id)); }

  function stateOf(item) {
    if (item.status === "running") { return fill(t.state_running, { percent: Math.round((item.progress || 0) * 100) }); }
    return t["state_" + item.status] || item.status;
  }

  let pruneTimer = null;

  function renderRecent() {
    const list = recentJobs();
    recent.hidden = list.length === 0;
    recentList.replaceChildren(...list.map((item) => {
      const row = element("li");
      row.dataset.job = item.id;
      row.append(element("span", item.title, "title"), " ", element("span", stateOf(item), "state state-" + item.status));
      if (item.status === "done") {
        const anchor = element("a", t.save);
        anchor.href = item.audio_url;
        const when = element("time", fill(t.expires, { time: times.format(new Date(item.expires_at)) }), "hint");
        when.dateTime = item.expires_at;
        row.append(" ", anchor, " ", when);
      }
      const forget = element("button", t.forget, "quiet");
      forget.type = "button";
      forget.setAttribute("aria-label", fill(t.forget_label, { title: item.title }));
      forget.addEventListener("click", () => {
        forgetJob(item.id);
        (recentList.querySelector("button") || text).focus();
      });
      row.append(" ", forget);
      return row;
    }));
    // Links leave the list when they expire, even with the page left open.
    clearTimeout(pruneTimer);
    if (list.length) {
      const next = Math.min(...list.map((j) => Date.parse(j.expires_at))) - Date.now() + 500;
      pruneTimer = setTimeout(renderRecent, Math.min(Math.max(next, 500), LONGEST_TIMER_MS));
    }
  }

  // Ask the server how each remembered link is doing; drop those it no longer has.
  async function refreshRecent() {
    let working = false;
    for (const item of recentJobs()) {
      if (current && current.job.id === item.id) { continue; }
      try {
        const response = await fetch(item.status_url, { headers: headers() });
        if (response.status === 404 || response.status === 410) { forgetJob(item.id); continue; }
        if (!response.ok) { continue; }
        const job = await response.json();
        if (job.status === "expired") { forgetJob(item.id); continue; }
        touchJob(job);
        working = working || job.status === "queued" || job.status === "running";
      } catch (e) { /* offline for now: keep what we knew */ }
    }
    if (working) { setTimeout(refreshRecent, 2000); }
  }

  // ---- captions and the sentence being spoken --------------------------------------------

  // The player's <track> is fetched by its URL alone, like the audio (neither needs a key).
  function showCaptions(job) {
    player.querySelectorAll("track").forEach((node) => node.remove());
    if (!job) { return; }
    const track = element("track");
    track.kind = "captions";
    track.label = t.captions;
    track.src = job.status_url + "/subtitles.vtt";
    player.append(track);
  }

  // The timings' pieces (each a sentence, or a run of short ones) become the cues of a hidden
  // track, so the browser says when each one starts. The captions' cues would not do: they
  // cut long sentences into parts a reader takes in at a glance.
  const sentences = player.addTextTrack("metadata");
  sentences.mode = "hidden";

  function showSentences(pieces) {
    for (const cue of Array.from(sentences.cues || [])) { sentences.removeCue(cue); }
    for (const piece of pieces) {
      if (piece.text.trim() && piece.end > piece.start) {
        sentences.addCue(new VTTCue(piece.start, piece.end, piece.text));
      }
    }
    nowSpeaking.textContent = "";
  }

  async function loadSentences(run) {
    try {
      const response = await fetch(run.job.status_url + "/timings", { headers: headers() });
      if (!response.ok) { return; }
      const timings = await response.json();
      if (run === current && !run.over) { showSentences(timings.pieces); }
    } catch (e) { /* the player plays on without the sentence shown */ }
  }

  function speaking() {
    const cue = sentences.activeCues && sentences.activeCues[0];
    return cue ? cue.text : "";
  }

  // In the pause between two sentences the last one stays rather than blink out.
  sentences.addEventListener("cuechange", () => {
    const text = speaking();
    if (text) { nowSpeaking.textContent = text; }
  });
  player.addEventListener("seeked", () => { nowSpeaking.textContent = speaking(); });
  player.addEventListener("ended", () => { nowSpeaking.textContent = ""; });

  // ---- a book's chapters -----------------------------------------------------------------

  // While a book is made, its chapters are listed with their state, and each one gets a
  // player of its own once made. Once the book is done, each chapter is a button that plays
  // the book's file from that chapter's start.

  function clock(value) {
    const whole = Math.max(0, Math.floor(value));
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor(whole / 60) % 60;
    const rest = String(whole % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + rest : minutes + ":" + rest;
  }

  // Before the player knows its file, the place a chapter button asked for waits for it.
  let pendingStart = null;

  function hideChapters() {
    pendingStart = null;
    chaptersBox.hidden = true;
    chapterList.replaceChildren(); // a chapter's player playing stops as it leaves the page
    chaptersHint.textContent = "";
  }

  function makingRow(chapter) {
    const row = element("li");
    row.dataset.number = chapter.number;
    row.append(element("span", chapter.title, "chapter-title"), " ", element("span", "", "chapter-state"));
    return row;
  }

  // Rows are changed in place, so a chapter being listened to plays on while the list
  // follows the rest of the book.
  function showMaking(chapters) {
    if (!Array.isArray(chapters)) { return; }
    const rows = chapterList.children;
    if (rows.length !== chapters.length || chapterList.querySelector("button")) {
      chapterList.replaceChildren(...chapters.map(makingRow));
    }
    chapters.forEach((chapter, i) => {
      const row = rows[i];
      const state = row.querySelector(".chapter-state");
      state.textContent = chapter.done ? t.chapter_ready : t.chapter_making;
      state.classList.toggle("done", chapter.done);
      if (chapter.done && chapter.audio_url && !row.querySelector("audio")) {
        const audio = element("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = chapter.audio_url;
        audio.setAttribute("aria-label", fill(t.chapter_play, { number: chapter.number, title: chapter.title }));
        row.append(audio);
      }
    });
    chaptersHint.textContent = t.chapters_making;
    chaptersBox.hidden = false;
  }

  function finished(chapters) {
    return Array.isArray(chapters) && chapters.length > 0 &&
      chapters.every((chapter) => chapter.start !== null && chapter.end !== null);
  }

  function bookRow(chapter) {
    const row = element("li");
    row.dataset.number = chapter.number;
    const button = element("button", undefined, "chapter");
    button.type = "button";
    button.dataset.start = chapter.start;
    button.dataset.end = chapter.end;
    button.append(element("span", chapter.title, "chapter-title"), " ", element("span", clock(chapter.start), "chapter-time"));
    button.addEventListener("click", () => playFrom(chapter.start));
    row.append(button);
    return row;
  }

  // A chapter still playing in its own player (whose URL stops working once the book is
  // joined) goes on in the book's player, from the same place.
  function showBook(chapters) {
    if (!finished(chapters)) { hideChapters(); return; }
    const playing = Array.from(chapterList.querySelectorAll("audio")).find((audio) => !audio.paused);
    const chapter = playing && chapters[Number(playing.closest("li").dataset.number) - 1];
    const at = chapter ? chapter.start + playing.currentTime : null;
    if (chapter) { player.volume = playing.volume; player.muted = playing.muted; }
    chapterList.replaceChildren(...chapters.map(bookRow));
    chaptersHint.textContent = t.chapters_done;
    chaptersBox.hidden = false;
    markChapter();
    if (at !== null) { playFrom(at); }
  }

  function playFrom(at) {
    if (player.readyState >= HTMLMediaElement.HAVE_METADATA) {
      player.currentTime = at;
    } else {
      pendingStart = at;
    }
    player.play().catch(() => { /* refused: the controls are there */ });
  }

  player.addEventListener("loadedmetadata", () => {
    if (pendingStart !== null) { player.currentTime = pendingStart; }
    pendingStart = null;
  });

  // The chapter being played is marked in the list.
  function markChapter() {
    const now = player.currentTime;
    for (const button of chapterList.querySelectorAll("button.chapter")) {
      const inside = now >= Number(button.dataset.start) && now < Number(button.dataset.end);
      if (inside) { button.setAttribute("aria-current", "true"); } else { button.removeAttribute("aria-current"); }
    }
  }
  player.addEventListener("timeupdate", markChapter);
  player.addEventListener("seeked", markChapter);

  // One chapter's player at a time.
  chapterList.addEventListener("play", (event) => {
    for (const audio of chapterList.querySelectorAll("audio")) {
      if (audio !== event.target) { audio.pause(); }
    }
  }, true);

  // Progress events say nothing of chapters: while a book is made, its status is asked for.
  function watchChapters(run) {
    run.chapterTimer = setTimeout(async () => {
      let job = null;
      try {
        const response = await fetch(run.job.status_url, { headers: headers() });
        if (response.status === 404 || response.status === 410) { return; } // said elsewhere
        if (response.ok) { job = await response.json(); }
      } catch (e) { /* asked again below */ }
      if (run.over || run.halted) { return; }
      if (job && !active(job.status)) { return; } // the job's end shows its chapters
      if (job) { showMaking(job.chapters); }
      watchChapters(run);
    }, CHAPTERS_POLL_MS);
  }

  // The end of a book's job as followed by events does not carry its chapters: they are
  // asked for once.
  async function finishChapters(run, job) {
    let chapters = job.chapters;
    if (!finished(chapters)) {
      try {
        const response = await fetch(job.status_url, { headers: headers() });
        chapters = response.ok ? (await response.json()).chapters : null;
      } catch (e) {
        chapters = null;
      }
    }
    if (run === current && !run.over) { showBook(chapters); }
  }

  // ---- Get link --------------------------------------------------------------------------

  let current = null; // the job on show: { job, book, events, timer, chapterTimer, expiry, over, halted }

  function active(status) { return status === "queued" || status === "running"; }

  // halt: stop following the job; stop: and the job is no longer on show (cancelled, gone,
  // or replaced by a new one).
  function halt(run) {
    run.halted = true;
    if (run.events) { run.events.close(); }
    clearTimeout(run.timer);
    clearTimeout(run.chapterTimer);
    clearTimeout(run.expiry);
  }

  function stop(run) {
    if (!run) { return; }
    run.over = true;
    halt(run);
  }

  function showProgress(job) {
    if (job.status === "queued") {
      bar.removeAttribute("value"); // indeterminate while it waits
      jobStatus.textContent = t.queued;
    } else if (job.status === "running") {
      bar.value = job.progress;
      jobStatus.textContent = fill(t.running, { percent: Math.round(job.progress * 100) });
    }
    touchJob(job);
  }

  function settle(run, job) {
    halt(run);
    cancel.hidden = true;
    touchJob(job);
    if (job.status === "done") {
      run.job = job;
      bar.value = 1;
      jobStatus.textContent = fill(t.ready, { duration: seconds.format(job.duration_s || 0) });
      link.value = new URL(job.audio_url, location.href).href;
      save.href = job.audio_url;
      subtitlesSrt.href = job.status_url + "/subtitles.srt";
      subtitlesVtt.href = job.status_url + "/subtitles.vtt";
      expires.textContent = fill(t.expires, { time: times.format(new Date(job.expires_at)) });
      player.src = job.audio_url;
      showCaptions(job);
      loadSentences(run);
      result.hidden = false;
      if (run.book) { finishChapters(run, job); }
      watchExpiry(run);
    } else if (job.status === "expired") {
      linkGone(run, "expired");
    } else {
      hideChapters();
      bar.hidden = true;
      jobStatus.textContent = "";
      showError(jobError, t.error_failed, job.error);
    }
  }

  function linkGone(run, code) {
    stop(run);
    result.hidden = true;
    player.removeAttribute("src");
    showCaptions(null);
    showSentences([]);
    player.load();
    hideChapters();
    bar.hidden = true;
    jobStatus.textContent = "";
    cancel.hidden = true;
    showError(jobError, t["error_" + code]);
    forgetJob(run.job.id);
  }

  function follow(run) {
    // A job's status, events and audio are reached by its link alone (no API key needed),
    // so events are followed with a key set too; polling is the fallback.
    if (window.EventSource) {
      const events = new EventSource(run.job.status_url + "/events");
      run.events = events;
      events.addEventListener("progress", (e) => { if (!run.over) { showProgress(JSON.parse(e.data)); } });
      events.addEventListener("end", (e) => {
        events.close();
        if (run.over) { return; }
        const job = JSON.parse(e.data);
        if (job.status === "deleted") { linkGone(run, "not_found"); } else { settle(run, job); }
      });
      events.onerror = () => {
        events.close();
        if (!run.over) { poll(run); }
      };
    } else {
      poll(run);
    }
  }

  async function poll(run) {
    if (run.over) { return; }
    let response;
    try {
      response = await fetch(run.job.status_url, { headers: headers() });
    } catch (e) {
      run.timer = setTimeout(() => poll(run), POLL_MS * 3);
      return;
    }
    if (run.over) { return; }
    if (response.status === 404 || response.status === 410) {
      linkGone(run, response.status === 404 ? "not_found" : "expired");
      return;
    }
    if (!response.ok) { stop(run); await showProblem(jobError, response); return; }
    const job = await response.json();
    if (active(job.status)) {
      showProgress(job);
      run.timer = setTimeout(() => poll(run), POLL_MS);
    } else {
      settle(run, job);
    }
  }

  // Once the file's time is up, say so rather than leave a dead link and player on show.
  function watchExpiry(run) {
    clearTimeout(run.expiry);
    const wait = Date.parse(run.job.expires_at) - Date.now() + 1000;
    run.expiry = setTimeout(() => checkExpired(run), Math.min(Math.max(wait, 1000), LONGEST_TIMER_MS));
  }

  async function checkExpired(run) {
    if (run.over || run !== current) { return; }
    let response;
    try {
      response = await fetch(run.job.status_url, { headers: headers() });
    } catch (e) {
      run.expiry = setTimeout(() => checkExpired(run), 5000);
      return;
    }
    if (run.over) { return; }
    if (response.status === 404 || response.status === 410) {
      linkGone(run, response.status === 404 ? "not_found" : "expired");
      return;
    }
    const job = response.ok ? await response.json() : run.job;
    if (job.status === "expired") { linkGone(run, "expired"); return; }
    run.job = job;
    watchExpiry(run);
  }

  player.addEventListener("error", () => {
    const run = current;
    if (!run || run.over || !player.getAttribute("src")) { return; }
    checkExpired(run);
  });

  getLink.addEventListener("click", async () => {
    clearErrors();
    // A book needs no text: only the other fields are checked then.
    if (!(chosenBook() ? speed.reportValidity() : form.reportValidity())) { return; }
    stop(current);
    current = null;
    const { title, init } = jobRequest();
    const book = Boolean(chosenBook());
    getLink.disabled = true;
    try {
      const response = await fetch(root + "/jobs", init);
      if (!response.ok) { await showProblem(formError, response, limits.job); return; }
      const job = await response.json();
      const run = { job, book: book || Array.isArray(job.chapters), over: false };
      current = run;
      savePrefs();
      rememberJob(job, title);
      section.hidden = false;
      bar.hidden = false;
      result.hidden = true;
      copyStatus.textContent = "";
      player.pause();
      player.removeAttribute("src");
      showCaptions(null);
      showSentences([]);
      hideChapters();
      cancel.hidden = false;
      if (active(job.status)) {
        showProgress(job);
        if (run.book) {
          showMaking(job.chapters);
          watchChapters(run);
        }
        follow(run);
      } else {
        settle(run, job);
      }
    } catch (e) {
      showError(formError, t.error_network);
    } finally {
      getLink.disabled = false;
    }
  });

  cancel.addEventListener("click", async () => {
    const run = current;
    if (!run || run.over) { return; }
    stop(run);
    cancel.hidden = true;
    bar.hidden = true;
    hideChapters();
    jobStatus.textContent = t.cancelled;
    forgetJob(run.job.id);
    getLink.focus(); // the Cancel button is gone: keep the keyboard somewhere useful
    try {
      await fetch(run.job.status_url, { method: "DELETE", headers: headers() });
    } catch (e) { /* the link dies with its expiry anyway */ }
  });

  copy.addEventListener("click", async () => {
    try {
      if (!navigator.clipboard || !window.isSecureContext) { throw new Error("no clipboard"); }
      await navigator.clipboard.writeText(link.value);
      copyStatus.textContent = t.copied;
    } catch (e) {
      // Without the clipboard API: select the link so the keyboard shortcut copies it.
      link.focus();
      link.select();
      let copied = false;
      try { copied = document.execCommand("copy"); } catch (err) { copied = false; }
      copyStatus.textContent = copied ? t.copied : t.copy_manual;
    }
  });

  // A chosen voice can be heard saying a short sentence of its own (made once, then cached).
  const voiceSample = $("voice-sample");
  function showVoiceSample() { voiceSample.hidden = !voice.value; }
  voice.addEventListener("change", showVoiceSample);
  voiceSample.addEventListener("click", () => {
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    preview.src = root + "/voices/" + encodeURIComponent(voice.value) + "/sample";
    preview.hidden = false;
    preview.play().catch(() => { /* autoplay refused: the controls are there */ });
  });

  // Switching the page's language loads the page again: the typed text comes along.
  const TYPED = "sayfile.typed";
  document.querySelectorAll(".switch a").forEach((link) => {
    link.addEventListener("click", () => {
      try { sessionStorage.setItem(TYPED, text.value); } catch (e) { /* not kept */ }
    });
  });

  function restoreTyped() {
    try {
      const typed = sessionStorage.getItem(TYPED);
      sessionStorage.removeItem(TYPED);
      if (typed && !text.value) { text.value = typed; }
    } catch (e) { /* nothing kept */ }
  }

  // ---- start -----------------------------------------------------------------------------

  getLink.hidden = false;
  bookField.hidden = false;
  listen.hidden = false;
  $("listen-hint").hidden = false;
  restoreTyped();
  updateCount();
  showVoiceSample();
  showBookMode();
  relabelLanguages();
  restorePrefs();
  renderRecent();
  refreshRecent();
})();
