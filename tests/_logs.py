"""Interaction logs written to disk for the loader and command line tests."""


def _csv(tmp_path, text, name="log.csv", mode="w"):
    path = tmp_path / name
    with open(path, mode) as handle:
        handle.write(text)
    return path
