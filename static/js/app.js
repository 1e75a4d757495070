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
