// Live progress of an ingest job: asks the API once a second, reloads the page when it ends.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "1") return;
  var bar = document.getElementById("job-progress");
  var pct = document.getElementById("job-percent");
  var state = document.getElementById("job-state");
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (j) {
        bar.value = j.progress;
        bar.textContent = pct.textContent = j.progress + " %";
        box.dataset.state = j.state;
        if (["done", "rejected", "failed"].indexOf(j.state) >= 0) {
          window.location.reload();
        } else {
          if (j.state === "running") state.textContent = state.dataset.running || j.state;
          setTimeout(tick, 1000);
        }
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 500);
})();
