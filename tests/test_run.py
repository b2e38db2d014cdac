"""crawler.run: the settings a crawl applies to its whole process."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Iterator

import pytest

from crawler.run import crawl_settings, tune_process


@pytest.fixture
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switch_interval")
def test_the_crawl_process_hands_the_gil_over_sooner_than_python_does() -> None:
    tune_process(crawl_settings())
    assert sys.getswitchinterval() == pytest.approx(0.0001)
    tune_process(crawl_settings({"CRAWL_SWITCH_INTERVAL": "0.002"}))
    assert sys.getswitchinterval() == pytest.approx(0.002)


@pytest.mark.usefixtures("switch_interval")
def test_a_switch_interval_of_zero_leaves_python_s_own() -> None:
    sys.setswitchinterval(0.005)
    tune_process(crawl_settings({"CRAWL_SWITCH_INTERVAL": "0"}))
    assert sys.getswitchinterval() == pytest.approx(0.005)


@pytest.mark.usefixtures("switch_interval")
@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_on_glibc_the_crawl_process_fixes_the_mmap_threshold() -> None:
    # Run in a child: the threshold stays set for the rest of the process that sets it.
    code = (
        "from crawler.run import crawl_settings, tune_process\n"
        "print(tune_process(crawl_settings()).get('mmap_threshold'))\n"
        "print(tune_process(crawl_settings({'CRAWL_MALLOC_MMAP_THRESHOLD': '0'}))"
        ".get('mmap_threshold'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["262144", "None"]
