// Tabs, copy buttons, policy variants and the sync progress bar of the AWS integration pages.
"use strict";

(function () {
  function showTab(root, name) {
    const sections = root.querySelectorAll("section.rollcall-tab");
    if (!Array.from(sections).some((section) => section.dataset.tab === name)) {
      name = root.dataset.activeTab || "status";
    }
    sections.forEach((section) => { section.hidden = section.dataset.tab !== name; });
    root.querySelectorAll(".rollcall-tabs a").forEach((link) => {
      link.classList.toggle("active", link.dataset.tab === name);
    });
  }

  function setUpTabs() {
    const root = document.querySelector(".rollcall-integration[data-active-tab]");
    if (!root) {
      return;
    }
    const initial = window.location.hash.slice(1) || root.dataset.activeTab;
    showTab(root, initial);
    window.addEventListener("hashchange", () => showTab(root, window.location.hash.slice(1)));
  }

  function setUpCopyButtons() {
    document.querySelectorAll(".rollcall-copy").forEach((button) => {
      button.addEventListener("click", () => {
        const source = document.getElementById(button.dataset.copyTarget);
        const text = source.textContent;
        const done = () => {
          const label = button.textContent;
          button.textContent = button.dataset.copiedLabel || "\u2713";
          setTimeout(() => { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          // Plain HTTP has no Clipboard API: select the text so that Ctrl+C copies it.
          const range = document.createRange();
          range.selectNodeContents(source);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  function setUpVariants() {
    const radios = document.querySelectorAll(".rollcall-variant");
    const update = () => {
      const checked = document.querySelector(".rollcall-variant:checked");
      document.querySelectorAll(".rollcall-document[data-variant]").forEach((block) => {
        block.hidden = checked && block.dataset.variant !== checked.value;
      });
    };
    radios.forEach((radio) => radio.addEventListener("change", update));
    update();
  }

  function setUpProgress() {
    const box = document.getElementById("sync-progress");
    if (!box) {
      return;
    }
    const bar = document.getElementById("sync-progress-bar");
    const count = document.getElementById("sync-progress-count");
    const status = document.getElementById("sync-progress-status");
    const poll = () => {
      fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((data) => {
          const run = data.run;
          if (!run) {
            return;
          }
          bar.max = Math.max(run.total, 1);
          bar.value = run.done;
          count.textContent = run.done + " / " + run.total;
          status.textContent = run.status_display;
          if (run.active) {
            setTimeout(poll, 2000);
          } else {
            // The run finished: load the page again for its counts and the new accounts.
            window.location.reload();
          }
        })
        .catch(() => setTimeout(poll, 2000));
    };
    setTimeout(poll, 2000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setUpTabs();
    setUpCopyButtons();
    setUpVariants();
    setUpProgress();
  });
})();
