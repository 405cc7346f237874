// The hall's scoreboard: polls the round's JSON every few seconds and redraws the table in place.
// Without JavaScript the page refreshes itself (a meta refresh inside <noscript>).
(function () {
  "use strict";
  var root = document.getElementById("scoreboard");
  if (!root) return;
  var src = root.getAttribute("data-src");
  var poll = Math.max(2, parseInt(root.getAttribute("data-poll"), 10) || 5) * 1000;
  var labels = JSON.parse(root.getAttribute("data-labels") || "{}");
  var etag = null;
  window.__board = { refreshes: 0 };

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value == null ? "" : String(value);
    return el;
  }
  function progress(row) {
    return labels.judges.replace("%(done)s", row.judges_done).replace("%(total)s", row.judges_total);
  }
  function draw(board) {
    var body = document.getElementById("rows");
    var stageId = board.on_stage ? board.on_stage.entry_id : null;
    var fresh = document.createDocumentFragment();
    board.items.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-entry", row.entry_id);
      tr.className = (row.score !== null ? "scored" : "pending") + (row.entry_id === stageId ? " on-stage" : "");
      tr.appendChild(text("td", row.rank, "rank"));
      tr.appendChild(text("td", row.title, "title"));
      tr.appendChild(text("td", row.organization || "", "wide-only"));
      tr.appendChild(text("td", row.track, "wide-only"));
      var score = document.createElement("td");
      score.className = "score";
      if (row.score !== null) score.textContent = row.score.toFixed(2);
      else score.appendChild(text("span", labels.scoring + " " + progress(row), "muted"));
      tr.appendChild(score);
      fresh.appendChild(tr);
    });
    body.replaceChildren(fresh);
    var stage = document.getElementById("stage");
    stage.hidden = !board.on_stage;
    if (board.on_stage) {
      document.getElementById("stage-title").textContent = board.on_stage.title;
      document.getElementById("stage-org").textContent = board.on_stage.organization || "";
      document.getElementById("stage-progress").textContent = progress(board.on_stage);
    }
    document.getElementById("closed-note").hidden = board.status === "open";
    // The server's time of day in the deployment's zone (the ISO text carries it), not the screen's own.
    document.getElementById("updated").textContent = String(board.at).slice(11, 19);
  }
  function refresh() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(src, { headers: headers, cache: "no-cache", credentials: "omit" })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("scoreboard " + response.status);
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (board) {
        if (board) draw(board);
        window.__board.refreshes += 1;
      })
      .catch(function () { /* a dropped poll: the next one tries again */ })
      .then(function () { setTimeout(refresh, poll); });
  }
  setTimeout(refresh, poll);
})();
