"""Progress of a command over its named steps, and how long each one took."""

import sys
import time


class StepProgress:
    """Progress over named steps: a tqdm bar when tqdm is installed, else lines.

    Parameters
    ----------
    total : int
        Number of steps.
    enabled : bool
        ``False`` prints nothing.
    stream : file-like, default=sys.stderr
        Where to print.
    """

    def __init__(self, total, *, enabled=True, stream=None):
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.bar = None
        #: Wall-clock seconds of each announced step, in order.
        self.seconds = {}
        self._current = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # optional extra "progress"
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, file=self.stream, leave=False)

    def step(self, description):
        """Announce the next step (before doing it); the last one is timed."""
        self._clock()
        self._current = (description, time.perf_counter())
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_description(description)
        else:
            print(f"[{self.done + 1}/{self.total}] {description}", file=self.stream)

    def advance(self):
        """Mark the announced step as done."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)

    def _clock(self):
        if self._current is not None:
            name, start = self._current
            self.seconds[name] = self.seconds.get(name, 0.0) + (
                time.perf_counter() - start
            )
            self._current = None

    def close(self):
        self._clock()
        if self.bar is not None:
            self.bar.close()
