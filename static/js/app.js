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

// --- Edit loop: the answer comes into view and takes focus --------------------------------
// An htmx swap that brings an answer (the outcome alert, a notice, a refusal, form errors or
// the conflict choices: elements marked data-take-focus) scrolls it into view and focuses
// it, so the person who sent from the bottom of a long form sees it and a screen reader
// reads it. Swaps without such an element (the live preview) leave focus where it is.
document.addEventListener("htmx:afterSettle", (event) => {
  const swapped = event.detail.elt;
  if (!(swapped instanceof Element)) return;
  const answer = swapped.matches("[data-take-focus]")
    ? swapped
    : swapped.querySelector("[data-take-focus]");
  if (!answer) return;
  answer.focus({ preventScroll: true });
  answer.scrollIntoView({ block: "start", behavior: "instant" });
});

// --- Edit loop: a warning before leaving a form with unsent edits -------------------------
// A form marked data-warn-unsent asks before the page is left while any of its fields
// differs from the value it was rendered with (after a send, the form is rendered anew, so
// nothing differs). Submitting the form itself is not leaving it.
let submittingForm = null;
document.addEventListener("submit", (event) => {
  submittingForm = event.target;
});

function formHasUnsentEdits(form) {
  return Array.from(form.elements).some((element) => {
    if (element.type === "checkbox" || element.type === "radio") {
      return element.checked !== element.defaultChecked;
    }
    if (element instanceof HTMLSelectElement) {
      const options = Array.from(element.options);
      if (element.multiple) return options.some((option) => option.selected !== option.defaultSelected);
      // A single select rendered without a selected option shows its first one.
      const rendered = Math.max(0, options.findIndex((option) => option.defaultSelected));
      return element.selectedIndex !== rendered;
    }
    if (element instanceof HTMLTextAreaElement || element instanceof HTMLInputElement) {
      if (["hidden", "submit", "button", "reset"].includes(element.type)) return false;
      return element.value !== element.defaultValue;
    }
    return false;
  });
}

window.addEventListener("beforeunload", (event) => {
  const unsent = Array.from(document.querySelectorAll("form[data-warn-unsent]")).some(
    (form) => form !== submittingForm && formHasUnsentEdits(form),
  );
  if (unsent) {
    event.preventDefault();
    event.returnValue = "";  // older browsers show the dialog only with a returnValue set
  }
});
// Inputs marked data-no-live take effect when their own button is pressed, not on every
// change: the live form around them must not hear their change events.
document.addEventListener("change", (event) => {
  if (event.target.closest && event.target.closest("[data-no-live]")) event.stopPropagation();
}, true);
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
// Bulk selection: a header checkbox selects every row of the page's form.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (all) {
    const form = all.dataset.selectAll;
    document.querySelectorAll(`input[name="id"][form="${form}"]`).forEach((box) => {
      box.checked = all.checked;
    });
    return;
  }
  tickBulkField(event);
});

// Typing a value or ticking null for a field ticks its "change" box.
function tickBulkField(event) {
  const input = event.target.closest("[data-bulk-set]");
  if (!input) return;
  const box = document.getElementById(input.dataset.bulkSet);
  if (box) box.checked = true;
}
document.addEventListener("input", tickBulkField);
