"""Bandit passes over everything shipped, with no waiver outside the code it justifies."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BANDIT = Path(sys.executable).parent / "bandit"


def test_bandit_passes_on_the_shipped_code() -> None:
    run = subprocess.run(
        [str(BANDIT), "-q", "-c", "pyproject.toml", "-r", "sequin_admin", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout


def test_make_test_runs_bandit_over_everything_without_skipping_tests() -> None:
    makefile = (ROOT / "Makefile").read_text()
    bandit_recipe = makefile.split("\nbandit:", 1)[1].split("\n\n", 1)[0]
    assert " -s " not in bandit_recipe and " -x " not in bandit_recipe
    assert re.search(r"^test: .*\blint\b", makefile, re.M)
    assert "$(MAKE) --no-print-directory bandit" in makefile.split("\nlint:", 1)[1]


def test_every_bandit_waiver_says_why() -> None:
    for path in [*ROOT.glob("sequin_admin/**/*.py"), *ROOT.glob("bench/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "# nosec" in line:
                # Several tests as bandit reads them: "B308, B703" (it misreads "B308,B703").
                assert re.search(r"# nosec B\d{3}(, B\d{3})* +# \S", line), f"{path}:{number}"
