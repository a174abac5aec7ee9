"""Plain-Python reference for the Criteo encoding, used as the tests' oracle."""
import math

NUM_INT, NUM_FIELDS = 13, 39


def int_token(raw):
    if raw == "":
        return ""
    try:
        x = float(raw)
    except ValueError:
        return "?" + raw
    if x > 2:
        return "L%d" % int(math.floor(math.log(x) ** 2))
    return str(int(x)) if x == int(x) else repr(x)


def good_rows(path, sep="\t", header=False):
    """(line_no, label, tokens) of valid lines, and [(line_no, reason)] of bad ones."""
    with open(path, "rb") as f:
        text = f.read().decode()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows, bad = [], []
    for i, line in enumerate(lines):
        line = line[:-1] if line.endswith("\r") else line
        if header and i == 0:
            continue
        cells = line.split(sep)
        if len(cells) != 40 or cells[0] not in ("0", "1"):
            bad.append(i + 1)
            continue
        tokens = [int_token(c) for c in cells[1:NUM_INT + 1]] + cells[NUM_INT + 1:]
        rows.append((i + 1, float(cells[0]), tokens))
    return rows, bad


def encode(path, sep="\t", header=False, min_threshold=4, test_fraction=0.1):
    """(features with offsets, labels, num_train, field_dims) by the book's rule."""
    rows, bad = good_rows(path, sep, header)
    data_lines = len(rows) + len(bad)
    cut = data_lines - int(round(data_lines * test_fraction)) + (1 if header else 0)
    train = [r for r in rows if r[0] <= cut]
    mappings, dims = [], []
    for f in range(NUM_FIELDS):
        counts = {}
        for _, _, tokens in train:
            counts[tokens[f]] = counts.get(tokens[f], 0) + 1
        kept = sorted(t for t, c in counts.items() if c >= min_threshold)
        mappings.append({t: i for i, t in enumerate(kept)})
        dims.append(len(kept) + 1)
    offsets = [sum(dims[:f]) for f in range(NUM_FIELDS)]
    features = [[mappings[f].get(tokens[f], dims[f] - 1) + offsets[f] for f in range(NUM_FIELDS)]
                for _, _, tokens in rows]
    labels = [label for _, label, _ in rows]
    return features, labels, len(train), dims, bad
