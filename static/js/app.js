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
