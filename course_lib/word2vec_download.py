"""Download a file over HTTP(S) so that the download always ends, whatever the server does.

Used for nltk's ``word2vec_sample.zip`` (:func:`course_lib.word2vec_sample.download`). Only
the standard library (``urllib``, imported when a download starts). The limits are the
module's constants, read at each download, so a slow link may loosen them first::

    import course_lib.word2vec_download as dl
    dl.DOWNLOAD_DEADLINE_S = 3600          # an hour instead of 30 minutes

- each network operation (connecting, each read) times out after ``DOWNLOAD_TIMEOUT_S``;
- connecting and receiving the reply's headers together take at most twice that, so a
  server that trickles its headers one byte at a time is cut off too;
- the body must arrive at ``MIN_RATE_BYTES_S`` or faster, measured over every
  ``MIN_RATE_WINDOW_S`` seconds;
- the whole download ends within ``DOWNLOAD_DEADLINE_S``;
- the body may not exceed ``max_bytes`` (for word2vec_sample, twice nltk's listed size):
  an endless body, or a ``Content-Length`` above it, is refused;
- a progress line is printed every ``PROGRESS_EVERY_S`` seconds, also while nothing comes.

The reading runs in a worker thread; the calling thread keeps the time, so it returns the
moment a limit is broken, and then cuts the connection. The body goes to a temporary file
beside the target, locked while it is written and renamed into place at the end; files a
killed run left behind are removed at the next attempt (:mod:`course_lib.word2vec_cache`).
"""

import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque

from course_lib.word2vec_cache import private_temporary

__all__ = ["DownloadError", "fetch"]

DOWNLOAD_TIMEOUT_S = 20.0  #: seconds for each network operation (connect, each read)
DOWNLOAD_DEADLINE_S = 30 * 60.0  #: seconds for the whole download
MIN_RATE_BYTES_S = 30_000  #: slowest accepted speed, bytes per second ...
MIN_RATE_WINDOW_S = 60.0  #: ... averaged over each window of this many seconds
PROGRESS_EVERY_S = 3.0  #: seconds between two progress lines
_CHUNK = 1 << 16
_TICK_S = 0.05  # how often the calling thread looks at the clock


class DownloadError(OSError):
    """A download failed or broke one of the limits; the message says which."""


class _Tracking:
    """Mixin for urllib's HTTP(S) handlers: remember each connection, to cut it later."""

    def __init__(self, track):
        super().__init__()
        self._track = track

    def do_open(self, http_class, req, **kwargs):
        """Open ``req`` as urllib does, through a connection that registers itself."""
        track = self._track

        class Connection(http_class):
            def connect(self):
                track(self)
                super().connect()

        return super().do_open(Connection, req, **kwargs)


class _HTTPHandler(_Tracking, urllib.request.HTTPHandler):
    """urllib's handler of http:// addresses, remembering its connections."""


_HTTPSHandler = None
if hasattr(urllib.request, "HTTPSHandler"):  # absent when Python was built without ssl

    class _HTTPSHandler(_Tracking, urllib.request.HTTPSHandler):
        """urllib's handler of https:// addresses, remembering its connections."""


def _opener(track):
    """Return an opener for http and https only, that hands every connection to ``track``."""
    handlers = [urllib.request.ProxyHandler(), _HTTPHandler(track)]
    if _HTTPSHandler is not None:
        handlers.append(_HTTPSHandler(track))
    handlers += [
        urllib.request.HTTPRedirectHandler(),  # refuses redirects to file://
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),  # ftp://, data://, file://: "unknown url type"
    ]
    opener = urllib.request.OpenerDirector()
    for handler in handlers:
        opener.add_handler(handler)
    return opener


class _Transfer:
    """One download: a worker thread reads, the calling thread watches the limits."""

    def __init__(self, url, out, max_bytes, timeout):
        self.url, self.out, self.max_bytes, self.timeout = url, out, max_bytes, timeout
        self.connections = []
        self.received = 0
        self.length = None  # what the server announced (None: chunked or not given)
        self.body_started = None  # time.monotonic() when the headers were in
        self.error = None
        self.cancelled = False
        self.worker = threading.Thread(target=self._read, name="course_lib download", daemon=True)

    def _read(self):
        try:
            with _opener(self.connections.append).open(self.url, timeout=self.timeout) as resp:
                # http.client ignores Content-Length on a chunked body, and a negative one
                length = getattr(resp, "length", None)
                if length is not None and length > self.max_bytes:
                    raise DownloadError(
                        f"the server announces {length / 1e6:.1f} MB, more than the "
                        f"{self.max_bytes / 1e6:.1f} MB this file may have"
                    )
                self.length, self.body_started = length, time.monotonic()
                while not self.cancelled and (chunk := resp.read1(_CHUNK)):
                    if self.received + len(chunk) > self.max_bytes:
                        raise DownloadError(
                            f"the server sent more than {self.max_bytes / 1e6:.1f} MB, more "
                            "than this file may have"
                        )
                    self.out.write(chunk)
                    self.received += len(chunk)
                if not self.cancelled and length is not None and self.received != length:
                    raise DownloadError(
                        f"the connection closed after {self.received} of {length} bytes"
                    )
        except Exception as err:  # noqa: BLE001 (a thread hands every failure to its caller)
            self.error = err

    def cut(self):
        """Stop the worker: no more writes, and shut its sockets so a blocked read returns."""
        self.cancelled = True
        for connection in self.connections:
            sock = getattr(connection, "sock", None)
            try:
                if sock is not None and sock.fileno() != -1:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # also under TLS
            except OSError:
                pass


def _progress(transfer, elapsed):
    if transfer.body_started is None:
        return f"  waiting for the server ({elapsed:.0f} s)"
    done = transfer.received / 1e6
    if transfer.length:
        share = 100 * transfer.received // transfer.length
        return f"  {done:.1f} of {transfer.length / 1e6:.1f} MB ({share}%), {elapsed:.0f} s"
    return f"  {done:.1f} MB so far, {elapsed:.0f} s"


def _broken_limit(transfer, elapsed, samples, limits):
    """Return which limit the transfer broke, or None.

    ``samples`` holds ``(time, bytes received)`` pairs since the body started, one per look
    at the clock; the rate is measured against the newest one at least a window old.
    """
    timeout, deadline, min_rate, window = limits
    if elapsed > deadline:
        return f"it took longer than the deadline of {deadline:g} s"
    if transfer.body_started is None:
        if elapsed > 2 * timeout:
            return f"the server did not send its reply's headers within {2 * timeout:g} s"
        return None
    now = time.monotonic()
    if not samples:
        samples.append((transfer.body_started, 0))
    samples.append((now, transfer.received))
    while len(samples) > 1 and samples[1][0] <= now - window:
        samples.popleft()  # keep the newest sample from at least one window ago
    then, received_then = samples[0]
    if now - then >= window and transfer.received - received_then < min_rate * (now - then):
        rate = (transfer.received - received_then) / (now - then)
        return (
            f"it slowed to {rate / 1e3:.2f} kB/s over {now - then:.0f} s, below the "
            f"minimum of {min_rate / 1e3:g} kB/s"
        )
    return None


def fetch(url, target, *, max_bytes, timeout=None, deadline=None, min_rate=None, window=None):
    """Download ``url`` to ``target`` within the limits; return ``target``.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` address (redirects to other schemes are refused).
    target : pathlib.Path
        Where the file goes; written only when the download is complete.
    max_bytes : int
        The largest body accepted.
    timeout, deadline, min_rate, window : float, optional
        Default: ``DOWNLOAD_TIMEOUT_S``, ``DOWNLOAD_DEADLINE_S``, ``MIN_RATE_BYTES_S`` and
        ``MIN_RATE_WINDOW_S`` as they are at the call.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DownloadError
        The download failed or broke a limit (the message says which, after how long);
        ``target`` is then as it was, and no temporary file is left.
    """
    limits = (
        DOWNLOAD_TIMEOUT_S if timeout is None else timeout,
        DOWNLOAD_DEADLINE_S if deadline is None else deadline,
        MIN_RATE_BYTES_S if min_rate is None else min_rate,
        MIN_RATE_WINDOW_S if window is None else window,
    )
    if not url.lower().startswith(("http://", "https://")):
        raise DownloadError(f"only http:// and https:// addresses are downloaded, not {url!r}")
    with private_temporary(target.parent, f".{target.name}.") as temporary:
        _watch(_Transfer(url, temporary.file, max_bytes, limits[0]), limits)
        temporary.commit(target)
    return target


def _watch(transfer, limits):
    """Run the transfer and keep its time; DownloadError when it fails or breaks a limit."""
    start = time.monotonic()
    samples = deque()
    last_report = start
    transfer.worker.start()
    try:
        while transfer.worker.is_alive():
            transfer.worker.join(_TICK_S)
            elapsed = time.monotonic() - start
            problem = _broken_limit(transfer, elapsed, samples, limits)
            if problem is not None:
                raise DownloadError(f"{problem} ({transfer.received / 1e6:.1f} MB received)")
            if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                print(_progress(transfer, elapsed), flush=True)
                last_report = time.monotonic()
    finally:
        transfer.cut()  # a no-op when the worker is done; else it stops at once
    elapsed = time.monotonic() - start
    if transfer.error is not None:
        reason = transfer.error
        if isinstance(reason, urllib.error.URLError) and not isinstance(
            reason, urllib.error.HTTPError
        ):
            reason = reason.reason  # "timed out", "Connection refused", ...
        raise DownloadError(f"{reason} (after {elapsed:.0f} s)") from transfer.error
    print(_progress(transfer, elapsed), flush=True)
