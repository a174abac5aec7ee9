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
    if not math.isfinite(x):
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


# The hashing encoder's spec (docs/encoder.md), from the published algorithms
# (SipHash-2-4, splitmix64's finalizer) in plain Python: what a client in
# another language implements.
MASK = 2**64 - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(key, data):
    """SipHash-2-4 of ``data`` (bytes) with a 16-byte ``key``, as an int."""
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def sip_round():
        v[0] = (v[0] + v[1]) & MASK; v[1] = _rotl(v[1], 13) ^ v[0]; v[0] = _rotl(v[0], 32)  # noqa: E702
        v[2] = (v[2] + v[3]) & MASK; v[3] = _rotl(v[3], 16) ^ v[2]  # noqa: E702
        v[0] = (v[0] + v[3]) & MASK; v[3] = _rotl(v[3], 21) ^ v[0]  # noqa: E702
        v[2] = (v[2] + v[1]) & MASK; v[1] = _rotl(v[1], 17) ^ v[2]; v[2] = _rotl(v[2], 32)  # noqa: E702

    full = len(data) // 8 * 8
    for i in range(0, full, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        sip_round()
        sip_round()
        v[0] ^= m
    last = (len(data) & 0xFF) << 56 | int.from_bytes(data[full:], "little")
    v[3] ^= last
    sip_round()
    sip_round()
    v[0] ^= last
    v[2] ^= 0xFF
    for _ in range(4):
        sip_round()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def mix64(x):
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def hash_key(field, raw):
    """The 64-bit key of one raw cell of 0-based ``field``."""
    if field < NUM_INT:
        return mix64(siphash24(b"deepfm-gluon-ctr", int_token(raw).encode("utf-8")))
    data = raw.encode("utf-8")
    if len(data) <= 8:
        return int.from_bytes(data, "little")
    return mix64(siphash24(b"0123456789123456", data)) | (1 << 63)


def hash_index(field, raw, num_buckets):
    """Feature index (offset included) of one raw cell under hashing."""
    return field * num_buckets + mix64(hash_key(field, raw) ^ mix64(field + 1)) % num_buckets
