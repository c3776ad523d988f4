// The Content Browser's little bit of behaviour; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A sort or page-size <select> applies as soon as it changes.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Long item text: a button shows all of it instead of the scrolling box.
  for (const pre of document.querySelectorAll("pre.text")) {
    if (pre.scrollHeight <= pre.clientHeight + 4) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Show all text";
    button.addEventListener("click", () => { pre.classList.toggle("open"); button.textContent = pre.classList.contains("open") ? "Fold text" : "Show all text"; });
    pre.after(button);
  }
  // A large source's facets and filtered count come in a second request, so the rows show at once.
  for (const slot of document.querySelectorAll("[data-summary]")) {
    fetch(slot.dataset.summary, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.status))))
      .then((html) => {
        slot.outerHTML = html;
        const box = document.querySelector("[data-total-count]");
        const total = box ? Number(box.dataset.totalCount).toLocaleString("en") : "?";
        for (const span of document.querySelectorAll("[data-total]")) span.textContent = "of " + total;
      })
      .catch((err) => { slot.textContent = "Facets unavailable (" + err.message + ")"; });
  }
  // Copy buttons next to ids (document ids are long URIs people paste into curl).
  for (const el of document.querySelectorAll("[data-copy]")) {
    el.addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(el.dataset.copy).then(() => { el.textContent = "copied"; }));
  }
});
