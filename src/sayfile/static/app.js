// "Get link": create a job with fetch, follow its progress, then show the link and a player.
// The Download button needs none of this: it is a plain form post.
(function () {
  "use strict";
  const form = document.getElementById("speech-form");
  const text = document.getElementById("text");
  const count = document.getElementById("count");
  const section = document.getElementById("job");
  const bar = document.getElementById("progress");
  const statusLine = document.getElementById("job-status");
  const linkLine = document.getElementById("job-link");
  const link = document.getElementById("link");
  const expires = document.getElementById("expires");
  const player = document.getElementById("player");

  function updateCount() { count.textContent = String(text.value.length); }
  text.addEventListener("input", updateCount);
  updateCount();

  function showError(message) {
    section.hidden = false;
    statusLine.textContent = message;
    statusLine.className = "error";
  }

  function finished(job) {
    if (job.status === "done") {
      bar.value = 1;
      statusLine.className = "";
      statusLine.textContent = "Ready: " + (job.duration_s || 0).toFixed(1) + " s of audio.";
      link.href = job.audio_url;
      link.textContent = new URL(job.audio_url, location.href).href;
      expires.textContent = new Date(job.expires_at).toLocaleString();
      linkLine.hidden = false;
      player.src = job.audio_url;
      player.hidden = false;
    } else {
      showError("The job " + job.status + (job.error ? ": " + job.error : "."));
    }
  }

  function follow(job) {
    if (window.EventSource) {
      const events = new EventSource(job.status_url + "/events");
      events.addEventListener("progress", (e) => {
        const j = JSON.parse(e.data);
        bar.value = j.progress;
        statusLine.textContent = "Working… " + Math.round(j.progress * 100) + "%";
      });
      events.addEventListener("end", (e) => { events.close(); finished(JSON.parse(e.data)); });
      events.onerror = () => { events.close(); poll(job.status_url); };
    } else {
      poll(job.status_url);
    }
  }

  async function poll(url) {
    const response = await fetch(url);
    const job = await response.json();
    if (!response.ok) { showError(job.error ? job.error.message : "Error " + response.status); return; }
    bar.value = job.progress;
    if (job.status === "queued" || job.status === "running") { setTimeout(() => poll(url), 700); }
    else { finished(job); }
  }

  document.getElementById("get-link").addEventListener("click", async () => {
    if (!form.reportValidity()) { return; }
    section.hidden = false;
    linkLine.hidden = true;
    player.hidden = true;
    bar.value = 0;
    statusLine.className = "";
    statusLine.textContent = "Queued…";
    const body = Object.fromEntries(new FormData(form).entries());
    body.speed = Number(body.speed || 1);
    for (const key of ["voice", "language"]) { if (!body[key]) { delete body[key]; } }
    try {
      const response = await fetch(form.action.replace(/speech$/, "jobs"), {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body),
      });
      const job = await response.json();
      if (!response.ok) { showError(job.error ? job.error.message : "Error " + response.status); return; }
      if (job.status === "done") { finished(job); } else { follow(job); }
    } catch (err) {
      showError("Could not reach the server: " + err);
    }
  });
})();
