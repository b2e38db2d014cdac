// Polls the job's status endpoint and redraws its progress until the job is done.
"use strict";
(function () {
  const status = document.getElementById("job-status");
  if (!status) return;
  const id = status.dataset.job;
  const fill = (list, items, make) => {
    list.replaceChildren(...items.map(make));
  };
  const line = (text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  };
  const capture = (captureId) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/captures/" + encodeURIComponent(captureId);
    a.textContent = "capture " + captureId;
    li.append(a);
    return li;
  };
  const poll = async () => {
    const response = await fetch("/api/jobs/" + encodeURIComponent(id));
    if (!response.ok) return;
    const job = await response.json();
    status.textContent = job.status;
    fill(document.getElementById("job-lines"), job.lines, line);
    fill(document.getElementById("job-captures"), job.capture_ids, capture);
    document.getElementById("job-error").textContent = job.error || "";
    if (!job.done) setTimeout(poll, 1000);
  };
  poll();
})();
