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
  const bookChapters = $("book-chapters");
  const bookChapterList = $("book-chapter-list");
  const bitrate = $("bitrate");
  const bookSize = $("book-size");
  const bookLanguage = $("book-language");
  const download = $("download");
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
  const readAlong = window.SayfileReadAlong({ box: $("read-along"), text: $("read-along-text"), player });
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
      limit: error.limit, size: error.size, room: error.room, setting: error.setting || "",
    };
  }

  function megabytes(bytes) {
    return numbers.format(Math.round(bytes / 104857.6) / 10) + " MB";
  }

  // An error over a limit, said whole in the page's language: which limit, how much was sent,
  // and the setting an operator can raise. Null for other errors.
  function limitMessage(problem) {
    if (typeof problem.limit !== "number") { return null; }
    const sized = typeof problem.size === "number";
    const values = { limit: numbers.format(problem.limit), setting: problem.setting };
    if (problem.code === "upload_too_large") {
      Object.assign(values, { limit: megabytes(problem.limit), size: sized ? megabytes(problem.size) : "" });
      return fill(sized ? t.error_upload_too_large_size : t.error_upload_too_large_limit, values);
    }
    if (problem.code === "book_too_long") {
      values.count = sized ? numbers.format(problem.size) : "";
      return fill(sized ? t.error_book_too_long_count : t.error_book_too_long_limit, values);
    }
    if (problem.code === "body_too_large") {
      return fill(t.error_body_too_large_limit, { limit: megabytes(problem.limit), setting: problem.setting });
    }
    if (problem.code === "storage_full" && typeof problem.room === "number" && sized) {
      return fill(t.error_storage_room, { size: megabytes(problem.size), room: megabytes(problem.room), setting: problem.setting });
    }
    return null;
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
    const whole = limitMessage(problem);
    showError(box, whole || describe(problem, limit), whole ? "" : problem.message);
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

  function primaryOf(tag) { return tag.toLowerCase().split("-")[0]; }

  // A language's own name as the picker shows it (its option, without the neural mark).
  function languageLabel(tag) {
    const option = Array.from(language.options).find((o) => o.value === tag);
    return option ? option.textContent.replace(/\s*★$/, "").trim() : tag;
  }

  async function voicesFor(tag) {
    if (!voiceLists.has(tag)) {
      const response = await fetch(root + "/voices?language=" + encodeURIComponent(tag), { headers: headers() });
      if (!response.ok) { throw new Error("voices " + response.status); }
      voiceLists.set(tag, await response.json());
    }
    return voiceLists.get(tag);
  }

  // As the server writes it: the name, its regional tag where the language's differs,
  // the neural mark, and "hard to understand" for a voice heard far below its language's best.
  function voiceOption(v, groupTag) {
    const region = v.language.toLowerCase() !== groupTag ? " — " + v.language : "";
    const hard = v.hard_to_understand ? " (" + t.hard_to_understand + ")" : "";
    return new Option(v.name + region + (v.quality === "neural" ? " ★ " + t.neural : "") + hard, v.id);
  }

  // The voice list follows the language: every voice (grouped) for "any", else the voices
  // /voices gives for it, best first, grouped by language.
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
        const groupTag = primaryOf(v.language);
        if (!groups.has(groupTag)) { groups.set(groupTag, element("optgroup")); }
        groups.get(groupTag).append(voiceOption(v, groupTag));
      }
      for (const [groupTag, group] of groups) { group.label = languageLabel(groupTag); }
      voice.replaceChildren(new Option(t.voice_best, ""), ...groups.values());
    }
    // A mix kept or remembered (`a(70)+b(30)`, as chosenVoice writes it) comes back as its
    // first voice, with the second offered again by showMix.
    const mixed = /^([^()+]+)\((\d+)\)\+([^()+]+)\((\d+)\)$/.exec(keep || "");
    if (mixed) {
      keep = mixed[1];
      mix.replaceChildren(new Option("", mixed[3]));
      mix.value = mixed[3];
      mixShare.value = mixed[4];
    }
    voice.value = keep && hasOption(voice, keep) ? keep : "";
    // The field that is sent follows at once, not only once showMix has the voice list: a
    // Download in between would send no voice (the browser test saw it empty after a reload).
    syncVoice();
    showVoiceSample();
    await showMix();
  }

  // ---- a Kokoro voice mixed with another of its language ---------------------------------
  // With JavaScript the hidden field carries the voice sent (the chosen one, or the mix as
  // `a(70)+b(30)`), so Download's form post, Listen, Get link and books send the same.
  const mix = $("mix");
  const mixField = $("mix-field");
  const mixShare = $("mix-share");
  const mixShown = $("mix-share-shown");
  const voiceSent = $("voice-sent");
  voiceSent.disabled = false;
  voiceSent.name = "voice";
  voice.removeAttribute("name");
  let everyVoice = null;

  function chosenVoice() {
    if (!voice.value || !mix.value) { return voice.value; }
    const second = Number(mixShare.value);
    return voice.value + "(" + (100 - second) + ")+" + mix.value + "(" + second + ")";
  }

  function syncVoice() {
    mixShown.textContent = mixShare.value + "%";
    mixShare.disabled = !mix.value;
    voiceSent.value = chosenVoice();
  }

  // The other Kokoro voices of the chosen one's language (a mix shares one language).
  async function showMix() {
    const chosen = voice.value;
    const keep = mix.value;
    const choices = [new Option(t.mix_none, "")];
    if (chosen.startsWith("kokoro:")) {
      try { everyVoice = everyVoice || await voicesFor(""); } catch (e) { everyVoice = []; }
      const own = everyVoice.find((v) => v.id === chosen);
      for (const v of own ? everyVoice : []) {
        if (v.engine === "kokoro" && v.id !== chosen && primaryOf(v.language) === primaryOf(own.language)) {
          choices.push(voiceOption(v, primaryOf(own.language)));
        }
      }
    }
    if (voice.value !== chosen) { return; }  // another voice was chosen meanwhile
    mix.replaceChildren(...choices);
    mix.value = hasOption(mix, keep) ? keep : "";
    mixField.hidden = choices.length < 2;
    syncVoice();
  }
  voice.addEventListener("change", async () => { await showMix(); savePrefs(); });
  mix.addEventListener("change", () => { syncVoice(); savePrefs(); });
  mixShare.addEventListener("input", syncVoice);
  mixShare.addEventListener("change", savePrefs);

  function savePrefs() {
    store.set(PREFS, {
      language: language.value, voice: chosenVoice(), format: format.value, speed: speed.value, textFormat: textFormat.value,
    });
  }

  // Whether the language or voice on show was chosen on this visit (not remembered from an
  // earlier one, nor preselected for the page's language).
  let choseHere = false;
  // Kept at once (a reload before the voices arrive keeps the language), and again with them.
  language.addEventListener("change", async () => {
    choseHere = true; bookLanguage.hidden = true; savePrefs(); await showVoices(""); savePrefs();
  });
  voice.addEventListener("change", () => { choseHere = true; bookLanguage.hidden = true; });
  for (const control of [voice, format, speed, textFormat]) { control.addEventListener("change", savePrefs); }

  // A page that came back with an error keeps what was sent; otherwise the last choices.
  async function restorePrefs() {
    const prefs = store.get(PREFS, null);
    if (form.hasAttribute("data-kept") || !prefs) {
      await showVoices(voiceSent.value || voice.value);
      return;
    }
    if (typeof prefs.language === "string" && hasOption(language, prefs.language)) { language.value = prefs.language; }
    if (hasOption(format, prefs.format)) { format.value = prefs.format; showBookMode(); }
    if (hasOption(textFormat, prefs.textFormat)) { textFormat.value = prefs.textFormat; }
    if (prefs.speed) { speed.value = prefs.speed; }
    await showVoices(prefs.voice);
  }

  function requestBody() {
    const body = { text: text.value, format: format.value, speed: Number(speed.value || 1), text_format: textFormat.value };
    if (voice.value) { body.voice = chosenVoice(); }
    if (language.value) { body.language = language.value; }
    return body;
  }

  // ---- a book file instead of the text (Get link only) -----------------------------------

  function chosenBook() { return book.files && book.files.length ? book.files[0] : null; }

  // A book format (epub: a read-along book) is made as a job: Get link makes it, and
  // Download hands over to Get link.
  function bookFormat() {
    const option = format.selectedOptions[0];
    return Boolean(option && "bookFormat" in option.dataset);
  }

  // With a file chosen, Get link is what makes it (Download would speak the text box), and
  // its chapters are listed to choose from.
  function showBookMode() {
    const file = Boolean(chosenBook());
    bookClear.hidden = !file;
    download.classList.toggle("primary", !file && !bookFormat());
    getLink.classList.toggle("primary", file || bookFormat());
    if (!file) { bookLanguage.hidden = true; }
    listBookChapters();
  }

  // A remembered (or preselected) language or voice is not applied to a book, whose
  // language may be another: the book's own language picks the voice, and the page says so.
  book.addEventListener("change", async () => {
    showBookMode();
    if (chosenBook() && !choseHere && (language.value || voice.value)) {
      language.value = "";
      await showVoices("");
      bookLanguage.hidden = false;
    }
  });
  bookClear.addEventListener("click", () => {
    book.value = "";
    showBookMode();
    text.focus(); // the Clear button is gone: keep the keyboard somewhere useful
  });

  // ---- a chosen book's chapters, before it is made ---------------------------------------

  // The server lists the book's chapters (front matter unticked) with their lengths; the
  // boxes ticked and the bit rate say what is made, and the expected size follows them.
  let bookListing = null; // POST /books/chapters's answer for the chosen book and format
  let listingFor = 0;

  function mib(bytes) {
    return bytes >= 1048576 ? seconds.format(bytes / 1048576) + " MB" : numbers.format(Math.ceil(bytes / 1024)) + " kB";
  }

  function showBookSize() {
    if (!bookListing) { return; }
    const boxes = Array.from(bookChapterList.querySelectorAll("input[type=checkbox]"));
    const ticked = bookListing.chapters.filter((chapter, i) => boxes[i] && boxes[i].checked);
    if (!ticked.length) { bookSize.textContent = t.book_none; return; }
    const spoken = ticked.reduce((sum, chapter) => sum + chapter.seconds, 0);
    const kbps = Number(bitrate.value || bookListing.bitrate || 0);
    // Without a bit rate (flac, wav), 16-bit samples at 24 kHz, as the server counts them.
    const bytes = spoken * (kbps ? kbps * 125 : 48000);
    bookSize.textContent = fill(t.book_size, {
      chapters: ticked.length, total: bookListing.chapters.length, duration: clock(spoken), size: mib(bytes),
    });
  }

  function showBookListing(listing) {
    bookListing = listing;
    bookChapterList.replaceChildren(...listing.chapters.map((chapter) => {
      const row = element("li");
      const box = element("input");
      box.type = "checkbox";
      box.id = "book-chapter-" + chapter.number;
      box.value = String(chapter.number);
      box.checked = !chapter.skipped;
      box.addEventListener("change", showBookSize);
      const label = element("label", chapter.title);
      label.htmlFor = box.id;
      row.append(box, " ", label, " ", element("span", fill(t.chapter_chars, { count: numbers.format(chapter.chars) }), "hint"));
      return row;
    }));
    const kept = bitrate.value;
    bitrate.replaceChildren(element("option", fill(t.bitrate_default, { kbps: listing.bitrate || "—" })));
    bitrate.options[0].value = "";
    for (const kbps of listing.bitrates) {
      const option = element("option", kbps + " kbit/s");
      option.value = String(kbps);
      bitrate.append(option);
    }
    bitrate.value = listing.bitrates.map(String).includes(kept) ? kept : "";
    bitrate.disabled = !listing.bitrates.length;
    bookChapters.hidden = false;
    showBookSize();
  }

  async function listBookChapters() {
    const file = chosenBook();
    const asked = ++listingFor;
    bookListing = null;
    if (!file) { bookChapters.hidden = true; bookChapterList.replaceChildren(); return; }
    bookChapters.hidden = false;
    bookChapterList.replaceChildren();
    bookSize.textContent = t.book_reading;
    const body = new FormData();
    body.append("file", file);
    body.append("format", format.value);
    try {
      const response = await fetch(root + "/books/chapters", { method: "POST", headers: headers(), body });
      if (asked !== listingFor) { return; } // another book or format was chosen meanwhile
      if (!response.ok) {
        bookChapters.hidden = true;
        await showProblem(formError, response, limits.job);
        return;
      }
      showBookListing(await response.json());
    } catch (e) {
      if (asked === listingFor) { bookChapters.hidden = true; showError(formError, t.error_network); }
    }
  }

  bitrate.addEventListener("change", showBookSize);
  format.addEventListener("change", showBookMode);

  // The chapters ticked, as POST /jobs takes them ("1,4,5"); "" when the listing is not in.
  function chosenChapters() {
    if (!bookListing) { return ""; }
    return Array.from(bookChapterList.querySelectorAll("input[type=checkbox]:checked"), (box) => box.value).join(",");
  }

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
    const ticked = chosenChapters();
    if (ticked) { body.append("chapters", ticked); }
    if (bookListing && bitrate.value) { body.append("bitrate", bitrate.value); }
    return { title: titleOf(file.name), init: { method: "POST", headers: headers(), body } };
  }

  // ---- Download (the plain form post) ----------------------------------------------------

  form.addEventListener("submit", (event) => {
    clearErrors();
    if (bookFormat()) {
      event.preventDefault();
      getLink.click();
      return;
    }
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
      if (run === current && !run.over) { showSentences(timings.pieces); readAlong.load(timings); }
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
      const waiting = chapter.state === "queued";
      state.textContent = chapter.skipped ? t.chapter_skipped
        : chapter.done ? t.chapter_ready : waiting ? t.chapter_queued : t.chapter_making;
      state.classList.toggle("done", chapter.done);
      state.classList.toggle("queued", waiting);
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

  // Chapters listed but not made (front matter, or not chosen) have no place in the file.
  function finished(chapters) {
    const made = Array.isArray(chapters) ? chapters.filter((chapter) => !chapter.skipped) : [];
    return made.length > 0 && made.every((chapter) => chapter.start !== null && chapter.end !== null);
  }

  function bookRow(chapter) {
    const row = element("li");
    row.dataset.number = chapter.number;
    if (chapter.skipped) {
      row.append(element("span", chapter.title, "chapter-title"), " ", element("span", t.chapter_skipped, "chapter-state"));
      return row;
    }
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

  // A time to plan with, in whole minutes ("12 min", "1 h 5 min"), from the server's
  // estimate in seconds.
  function span(value) {
    const minutes = Math.max(1, Math.round(value / 60));
    if (minutes < 60) { return fill(t.time_minutes, { minutes }); }
    return fill(t.time_hours, { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  }

  function timeLeft(eta) {
    if (typeof eta !== "number") { return ""; }
    return eta < 60 ? t.eta_soon : fill(t.eta, { time: span(eta) });
  }

  function showProgress(job) {
    if (job.status === "queued") {
      bar.removeAttribute("value"); // indeterminate while it waits
      const eta = job.eta_seconds;
      jobStatus.textContent = typeof eta === "number" && eta >= 60 ? fill(t.queued_eta, { time: span(eta) }) : t.queued;
    } else if (job.status === "running") {
      bar.value = job.progress;
      const left = timeLeft(job.eta_seconds);
      jobStatus.textContent = fill(t.running, { percent: Math.round(job.progress * 100) }) + (left ? " · " + left : "");
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
      // A read-along EPUB is a book to save and open in a reading app, not audio to play here.
      const epub = job.format === "epub";
      jobStatus.textContent = fill(epub ? t.ready_epub : t.ready, { duration: clock(job.duration_s || 0) });
      link.value = new URL(job.audio_url, location.href).href;
      save.href = job.audio_url;
      subtitlesSrt.href = job.status_url + "/subtitles.srt";
      subtitlesVtt.href = job.status_url + "/subtitles.vtt";
      expires.textContent = fill(t.expires, { time: times.format(new Date(job.expires_at)) });
      player.hidden = epub;
      if (epub) {
        player.removeAttribute("src");
        showCaptions(null);
        readAlong.clear();
        hideChapters();
      } else {
        player.src = job.audio_url;
        showCaptions(job);
        nowSpeaking.classList.toggle("beside-text", readAlong.show(run.typed, run.lang));
        loadSentences(run);
      }
      result.hidden = false;
      if (run.book && !epub) { finishChapters(run, job); }
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
    readAlong.clear();
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
    if (bookListing && !chosenChapters()) { showError(formError, t.book_none); return; }
    stop(current);
    current = null;
    const { title, init } = jobRequest();
    const book = Boolean(chosenBook());
    const typed = book ? null : text.value; // read along in the player, as it was sent
    getLink.disabled = true;
    try {
      const response = await fetch(root + "/jobs", init);
      if (!response.ok) { await showProblem(formError, response, limits.job); return; }
      const job = await response.json();
      const run = { job, book: book || Array.isArray(job.chapters), over: false, typed, lang: language.value };
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
      readAlong.clear();
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
  voiceSample.addEventListener("click", async () => {
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    const url = root + "/voices/" + encodeURIComponent(chosenVoice()) + "/sample";
    if (apiKey()) {
      // With keys the sample needs one too, which an <audio src> cannot send.
      const response = await fetch(url, { headers: headers({ Accept: "audio/mpeg" }) });
      if (!response.ok) { await showProblem(formError, response, limits.direct); return; }
      previewUrl = URL.createObjectURL(await response.blob());
      preview.src = previewUrl;
    } else {
      preview.src = url;
    }
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
  for (const option of format.querySelectorAll("option[data-book-format]")) {
    option.hidden = false;
    option.disabled = false;
  }
  listen.hidden = false;
  $("listen-hint").hidden = false;
  restoreTyped();
  updateCount();
  showVoiceSample();
  showBookMode();
  restorePrefs();
  renderRecent();
  refreshRecent();
})();
