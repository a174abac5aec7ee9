"""The import hooks' one shared need: leaving ``sys.meta_path``."""
import sys


def remove_finder(finder):
    """Take ``finder`` off ``sys.meta_path`` (gone already is fine)."""
    try:
        sys.meta_path.remove(finder)
    except ValueError:
        pass


def remove_finders_of(finder_type):
    """Take every finder of ``finder_type`` off ``sys.meta_path``."""
    for finder in [f for f in sys.meta_path if isinstance(f, finder_type)]:
        remove_finder(finder)
