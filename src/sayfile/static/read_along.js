// Read-along under a job's player: the text the user typed, with the word being said marked
// (the sentence, for voices whose words are not timed), kept in view inside its box; a word
// chosen with a click, or with the arrow keys and Enter, moves the player to its start.
// app.js makes one with window.SayfileReadAlong({ box, text, player }) and calls show, load
// and clear; nothing here knows about jobs.
(function () {
  "use strict";

  // White space as Python's str.split() sees it: the server folds each run of it to one
  // space (and trims the ends) before it counts the characters words are placed by.
  const WHITE = "\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const IS_WHITE = new RegExp("[" + WHITE + "]");
  const WHITE_RUN = "[" + WHITE + "]+";
  const RUNS = new RegExp(WHITE_RUN);
  // How far past the last word placed a word whose offsets do not fit is looked for.
  const NEAR = 400;
  // After the reader scrolls the box by hand, it is not scrolled back for this long.
  const HAND_SCROLL_MS = 4000;
  // A seek lands on a word's start; a rounding error must not leave it on the word before.
  const EPSILON_S = 0.0005;
  // A word whose sound ends this long or more before the next word begins (a pause) is
  // unmarked at its end; a shorter gap (a stop's closure) keeps it marked until the next.
  const PAUSE_S = 0.08;

  function folded(value) { return value.split(RUNS).filter(Boolean).join(" "); }

  function escaped(value) { return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // Where each code point of the text as the server counts it is in `shown` (its UTF-16
  // index): runs of white space are one character (at the run's first), the ends trimmed.
  function pointsOf(shown) {
    const at = [];
    let space = -1;
    for (let i = 0; i < shown.length;) {
      if (IS_WHITE.test(shown[i])) {
        if (at.length && space < 0) { space = i; }
        i += 1;
        continue;
      }
      if (space >= 0) { at.push(space); space = -1; }
      at.push(i);
      i += shown.codePointAt(i) > 0xffff ? 2 : 1;
    }
    return at;
  }

  // The word's place by its offsets, if the text there is the word (it is not where the
  // server read the text otherwise: Markdown, addresses said briefly, a book's chapters).
  function byOffsets(shown, points, item, from) {
    const start = item.start_char;
    const end = item.end_char;
    if (typeof start !== "number" || typeof end !== "number" || start < 0 || end > points.length || end <= start) {
      return null;
    }
    const first = points[start];
    const lastAt = points[end - 1];
    const stop = lastAt + (shown.codePointAt(lastAt) > 0xffff ? 2 : 1);
    if (first < from || folded(shown.slice(first, stop)) !== folded(item.text)) { return null; }
    return [first, stop];
  }

  // The item's text looked for just after `from`, white space matching any white space.
  function nearby(shown, said, from) {
    const runs = said.split(RUNS).filter(Boolean);
    if (!runs.length) { return null; }
    const part = shown.slice(from, from + said.length * 2 + NEAR);
    const found = new RegExp(runs.map(escaped).join(WHITE_RUN)).exec(part);
    return found ? [from + found.index, from + found.index + found[0].length] : null;
  }

  // The timed items placed in `shown`, in order of place and time; those not found are left
  // out (the one before stays marked while they are said: its end becomes theirs).
  function placed(shown, items, useOffsets) {
    const points = useOffsets ? pointsOf(shown) : null;
    const out = [];
    let from = 0;
    let last = -Infinity;
    for (const item of items) {
      if (typeof item.start !== "number" || item.start < last || !item.text) { continue; }
      const place = (points && byOffsets(shown, points, item, from)) || nearby(shown, item.text, from);
      const end = typeof item.end === "number" ? item.end : Infinity;
      if (!place) {
        if (out.length) { out[out.length - 1].end = Math.max(out[out.length - 1].end, end); }
        continue;
      }
      out.push({ from: place[0], to: place[1], start: item.start, end: end });
      from = place[1];
      last = item.start;
    }
    return out;
  }

  window.SayfileReadAlong = function (parts) {
    const { box, text, player } = parts;
    let shown = "";
    let spans = [];
    let starts = null;
    let until = null; // when each item stops being marked
    let marked = -1;
    let stop = null; // the one span in the tab order
    let frame = 0;
    let handScrolled = -Infinity;
    // Inside the box: the text itself, and a layer behind it for the mark's boxes (one per
    // line the item being said is on), so moving them never lays the text out again.
    const prose = document.createElement("div");
    const layer = document.createElement("div");
    layer.className = "read-along-marks";
    let marks = [];

    function moveStop(i) {
      if (stop) { stop.removeAttribute("tabindex"); }
      stop = spans[i] || null;
      if (stop) { stop.tabIndex = 0; }
    }

    function clear() {
      cancelAnimationFrame(frame);
      frame = 0;
      spans = [];
      starts = null;
      until = null;
      marked = -1;
      stop = null;
      shown = "";
      marks = [];
      layer.replaceChildren();
      prose.replaceChildren();
      text.replaceChildren();
      box.hidden = true;
    }

    // The typed text at once (so the box takes its place before the timings come, and does
    // not move when they do); `lang` is the language chosen for it, if any. Whether it is shown.
    function show(typed, lang) {
      clear();
      if (!typed || !typed.trim()) { return false; }
      shown = typed.normalize("NFC");
      prose.textContent = shown;
      text.replaceChildren(layer, prose);
      if (lang) { text.lang = lang; } else { text.removeAttribute("lang"); }
      text.scrollTop = 0;
      box.hidden = false;
      return true;
    }

    // The spans, built once from the job's timings: its words where they are timed, else
    // its pieces (sentences).
    function load(timings) {
      if (!shown || !timings) { return; }
      const words = Array.isArray(timings.words) && timings.words.length ? timings.words : null;
      const items = placed(shown, words || timings.pieces || [], Boolean(words));
      const fragment = document.createDocumentFragment();
      const made = [];
      const times = new Float64Array(items.length);
      const ends = new Float64Array(items.length).fill(Infinity);
      let at = 0;
      items.forEach((item, i) => {
        if (item.from > at) { fragment.append(shown.slice(at, item.from)); }
        const span = document.createElement("span");
        span.className = words ? "spoken word" : "spoken sentence";
        span.dataset.i = String(i);
        span.textContent = shown.slice(item.from, item.to);
        fragment.append(span);
        made.push(span);
        times[i] = item.start;
        // A sentence stays marked until the next; a word before a pause only while heard.
        const next = i + 1 < items.length ? items[i + 1].start : Infinity;
        if (words && next - item.end >= PAUSE_S) { ends[i] = item.end; }
        at = item.to;
      });
      if (at < shown.length) { fragment.append(shown.slice(at)); }
      prose.replaceChildren(fragment);
      layer.replaceChildren();
      marks = [];
      spans = made;
      starts = times;
      until = ends;
      marked = -1;
      moveStop(0);
      update();
      if (!player.paused && !frame) { frame = requestAnimationFrame(tick); } // played already
    }

    // The last item started by `now` (-1 before the first, or in the pause after a word once its
    // sound has ended): a binary search over the starts.
    function itemAt(now) {
      let low = 0;
      let high = starts.length - 1;
      let found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (starts[middle] <= now + EPSILON_S) { found = middle; low = middle + 1; } else { high = middle - 1; }
      }
      return found >= 0 && now >= until[found] ? -1 : found;
    }

    // The mark is drawn by boxes laid behind the text, not by styling the word: a word's
    // colours changed inside one long paragraph cost Chromium tens of milliseconds a word at
    // 20,000 characters (the whole paragraph painted again); a box moved costs next to nothing.
    // Returns the item's top and bottom in the box's content, or null if it is not laid out.
    function drawMark(span) {
      const lines = span ? span.getClientRects() : [];
      const outer = text.getBoundingClientRect();
      const dx = text.scrollLeft - outer.left - text.clientLeft;
      const dy = text.scrollTop - outer.top - text.clientTop;
      for (let k = 0; k < lines.length; k++) {
        if (!marks[k]) {
          marks[k] = document.createElement("div");
          marks[k].className = "read-along-mark";
          layer.append(marks[k]);
        }
        const line = lines[k];
        const style = marks[k].style;
        style.transform = "translate(" + (line.left + dx) + "px, " + (line.top + dy) + "px)";
        style.width = line.width + "px";
        style.height = line.height + "px";
        marks[k].hidden = false;
      }
      for (let k = lines.length; k < marks.length; k++) { marks[k].hidden = true; }
      return lines.length ? [lines[0].top + dy, lines[lines.length - 1].bottom + dy] : null;
    }

    // Scrolls the box only (never the page), and only once the item has left its view.
    function keepInView(place) {
      if (!place || Date.now() - handScrolled < HAND_SCROLL_MS) { return; }
      if (place[0] < text.scrollTop || place[1] > text.scrollTop + text.clientHeight) {
        text.scrollTop = Math.max(0, place[0] - text.clientHeight / 3);
      }
    }

    // One item changes per new item said: the attribute moves from the old one to the new one
    // (for screen readers), and the boxes behind it follow.
    function update() {
      if (!starts || !starts.length) { return; }
      const now = player.ended ? -1 : itemAt(player.currentTime);
      if (now === marked) { return; }
      if (marked >= 0) { spans[marked].removeAttribute("aria-current"); }
      marked = now;
      if (now < 0) { drawMark(null); return; }
      const span = spans[now];
      span.setAttribute("aria-current", "true");
      // Tab comes back to the word being said, unless the keyboard is among the words now.
      if (!text.contains(document.activeElement)) { moveStop(now); }
      keepInView(drawMark(span));
    }

    // The text flows again when the box's width changes: the mark follows its item.
    if (window.ResizeObserver) {
      new ResizeObserver(() => { if (marked >= 0) { drawMark(spans[marked]); } }).observe(text);
    }

    function tick() {
      frame = 0;
      update();
      if (!player.paused && !player.ended && starts) { frame = requestAnimationFrame(tick); }
    }

    function seek(i) {
      if (!starts || i < 0 || i >= starts.length) { return; }
      player.currentTime = starts[i];
      update();
    }

    player.addEventListener("play", () => { if (!frame) { frame = requestAnimationFrame(tick); } });
    for (const name of ["seeked", "timeupdate", "ended"]) { player.addEventListener(name, update); }

    for (const name of ["wheel", "touchmove"]) {
      text.addEventListener(name, () => { handScrolled = Date.now(); }, { passive: true });
    }

    text.addEventListener("click", (event) => {
      const span = event.target.closest && event.target.closest("span.spoken");
      if (!span) { return; }
      const selection = window.getSelection();
      if (selection && !selection.isCollapsed) { return; } // text being selected, not a seek
      const i = Number(span.dataset.i);
      moveStop(i);
      span.focus({ preventScroll: true }); // the keyboard goes on from the word chosen
      seek(i);
    });

    text.addEventListener("keydown", (event) => {
      const span = event.target.closest && event.target.closest("span.spoken");
      if (!span || event.altKey || event.ctrlKey || event.metaKey) { return; }
      const i = Number(span.dataset.i);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: spans.length - 1 }[event.key];
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        seek(i);
      } else if (next !== undefined && spans[next]) {
        event.preventDefault();
        moveStop(next);
        spans[next].focus();
      }
    });

    return { show, load, clear };
  };
})();
