"""guests/text-filters' `shout` and `words`, shared by both template engines."""


def shout(value):
    """The value in capitals with "!"."""
    return f"{value}".upper() + "!"


def words(value, n):
    """The first n whitespace-separated words, joined by " ", plus " …" when there were more."""
    parts = f"{value}".split()
    out = " ".join(parts[:n])
    return out + " …" if len(parts) > n else out
