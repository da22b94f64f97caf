"""Fetching a dataset's gzipped IDX files over HTTP: only when asked, each checked by SHA-256.

Nothing in gankit downloads at run time; ``gankit data download NAME --dest DIR`` (or
``download(NAME, DIR)``) fetches the four files of ``mnist`` or ``fashion-mnist`` into ``DIR``,
which is then passed as ``--data-dir``. Each file is streamed to a temporary file next to its
target, hashed on the way, and moved into place only when its SHA-256 matches the published one
(``DOWNLOADS``); a mismatch or a dead mirror leaves no file behind.
"""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from ..errors import ConfigError, DataError
from ..rundir import atomic_output

# Where ``download`` fetches from (tried in order) and the canonical SHA-256 of each gz file.
DOWNLOADS: Dict[str, Dict[str, Any]] = {
    "mnist": {
        "mirrors": (
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
        ),
        "sha256": {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "mirrors": (
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        "sha256": {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}


def download(
    name: str,
    dest_dir: str,
    base_url: Optional[str] = None,
    sha256: Optional[Dict[str, str]] = None,
    timeout: float = 60.0,
) -> list:
    """Fetch the four gzipped IDX files of ``name`` ("mnist" or "fashion-mnist") into ``dest_dir``.

    Each file is streamed to a temporary file, checked against its SHA-256 (``DOWNLOADS`` table,
    entries overridden by ``sha256``), and only then moved into place; a mismatch leaves no file
    and raises ``DataError``. Files already present with the right checksum are kept. The
    mirrors are tried in order unless ``base_url`` is given. Returns the four paths.
    """
    if name not in DOWNLOADS:
        raise ConfigError(f"download: no download for {name!r}; valid: {', '.join(sorted(DOWNLOADS))}")
    table = {**DOWNLOADS[name]["sha256"], **(sha256 or {})}
    mirrors = (base_url,) if base_url else DOWNLOADS[name]["mirrors"]
    dest = Path(dest_dir).expanduser()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{dest}: cannot create the folder ({e.strerror or e})") from None
    paths = []
    for fname in DOWNLOADS[name]["sha256"]:
        target = dest / fname
        want = table[fname].lower()
        if not (target.is_file() and _sha256_file(target) == want):
            _fetch_checked(fname, [m.rstrip("/") + "/" + fname for m in mirrors], target, want, timeout)
        paths.append(target)
    return paths


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _ChecksumMismatch(Exception):
    pass


def _fetch_checked(fname: str, urls: Sequence[str], target: Path, want: str, timeout: float) -> None:
    """Download the first URL that answers with bytes of SHA-256 ``want`` into ``target``."""
    problems = []
    for url in urls:
        try:
            with atomic_output(target) as tmp:
                h = hashlib.sha256()
                with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
                got = h.hexdigest()
                if got != want:
                    raise _ChecksumMismatch(f"{url}: SHA-256 {got} does not match the expected {want}")
            return
        except _ChecksumMismatch as e:
            problems.append(str(e))
        except (urllib.error.URLError, OSError, ValueError) as e:
            problems.append(f"{url}: {getattr(e, 'reason', None) or e}")
    raise DataError(f"{fname}: download failed, nothing written to {target.parent} ({'; '.join(problems)})")
