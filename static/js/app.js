// Small progressive enhancements; every page works without this file.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  }
});

// Times are shown in the person's timezone: the server reads it from this cookie
// (sequin_admin/timezones.py). Set on every page, so a travelling laptop follows its clock.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names ("America/New_York", "Etc/GMT+5") are valid cookie text as they are; the
  // server takes only a name it knows.
  if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
    document.cookie = `tz=${zone}; path=/; max-age=31536000; SameSite=Lax`;
  }
})();

// Whole rows open their record: a click anywhere in a row [data-row-link] follows the row's
// own link (a.row-link), which stays the real target for the keyboard, middle-click and
// "open in new tab". Clicks on something interactive, or that end a text selection, are left
// alone; Ctrl/Cmd/Shift-click and middle-click open the record in a new tab as on the link.
function rowLinkFor(event) {
  const row = event.target.closest("tr[data-row-link]");
  if (!row || event.target.closest("a, button, input, select, textarea, label, summary, details")) return null;
  if (String(window.getSelection())) return null;
  return row.querySelector("a.row-link");
}
document.addEventListener("click", (event) => {
  if (event.button !== 0) return;
  const link = rowLinkFor(event);
  if (!link) return;
  if (event.ctrlKey || event.metaKey || event.shiftKey) {
    window.open(link.href, "_blank", "noopener");
  } else {
    link.click();
  }
});
document.addEventListener("auxclick", (event) => {
  const link = event.button === 1 ? rowLinkFor(event) : null;
  if (link) window.open(link.href, "_blank", "noopener");
});

// A picklist's "other…" choice reveals the text input beside it, which then carries the value.
function syncOther(select) {
  const other = document.getElementById(select.dataset.otherInput);
  if (!other) return;
  const wantsOther = select.value === select.dataset.otherValue;
  other.hidden = !wantsOther;
  other.disabled = !wantsOther;
  if (wantsOther && document.activeElement === select) other.focus();
}
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-other-input]")) syncOther(event.target);
});
function setUpOthers(root) {
  root.querySelectorAll("select[data-other-input]").forEach(syncOther);
}
document.addEventListener("DOMContentLoaded", () => setUpOthers(document));
document.addEventListener("htmx:load", (event) => setUpOthers(event.detail.elt));
