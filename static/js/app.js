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

// Inputs marked data-no-live take effect when their own button is pressed, not on every
// change: the live form around them must not hear their change events.
document.addEventListener("change", (event) => {
  if (event.target.closest && event.target.closest("[data-no-live]")) event.stopPropagation();
}, true);
