# SPDX-License-Identifier: 0BSD
# Shared by the bench/ scripts: where the binaries are, the machine's
# description, hyperfine runs exported as JSON, and writing one section of
# docs/BENCHMARKS.md between its markers.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${PTOOLS_BIN:=$bench_root/bin}"
export PATH="$PTOOLS_BIN:$PATH"
: "${BENCH_DIR:=$bench_root/build/bench}"   # generated datasets live here
mkdir -p "$BENCH_DIR"

# bench_require CMD...: exit with a message if a peer is not installed.
bench_require() {
	local cmd
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || {
			echo "bench: $cmd not installed (run .ci/install-deps --bench)" >&2
			exit 2
		}
	done
}

# bench_machine: one line describing the machine, for each section.
bench_machine() {
	printf '%s cores (%s), %s RAM, %s, %s' "$(nproc)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(free -h | awk '/^Mem:/ {print $2}')" "$(uname -r)" "$(date -u +%Y-%m-%d)"
}

# bench_hyperfine JSON ARGS...: hyperfine with its JSON export; ARGS are
# hyperfine's (names and commands).
bench_hyperfine() {
	local json=$1
	shift
	hyperfine --style basic --export-json "$json" "$@"
}

# bench_table JSON [BASELINE_NAME]: a Markdown table of median, mean, user
# and system time and the ratio of each median to the baseline's (default:
# the first command).
bench_table() {
	python3 - "$@" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base_name = sys.argv[2] if len(sys.argv) > 2 else results[0]["command"]
base = next(r for r in results if r["command"] == base_name)["median"]
print("| command | median s | mean s ± σ | user s | sys s | ratio to %s |" % base_name)
print("|---|---:|---:|---:|---:|---:|")
for r in results:
    print("| `%s` | %.3f | %.3f ± %.3f | %.3f | %.3f | %.2f× |" % (
        r["command"], r["median"], r["mean"], r["stddev"] or 0.0,
        r["user"], r["system"], r["median"] / base))
PY
}

# bench_peak_kib CMD...: peak resident memory of CMD in KiB (GNU time).
bench_peak_kib() {
	/usr/bin/time -f '%M' -o "$BENCH_DIR/.peak" "$@" > /dev/null 2>&1 || true
	tail -n 1 "$BENCH_DIR/.peak"
}

# bench_write_section NAME FILE: replace the NAME section of
# docs/BENCHMARKS.md with the contents of FILE.
bench_write_section() {
	python3 - "$bench_root/docs/BENCHMARKS.md" "$1" "$2" <<'PY'
import sys
doc, name, body = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
text = open(doc).read()
begin, end = "<!-- BEGIN %s -->" % name, "<!-- END %s -->" % name
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    text = head + begin + "\n" + body.rstrip("\n") + "\n" + end + tail
else:
    text = text.rstrip("\n") + "\n\n" + begin + "\n" + body.rstrip("\n") + "\n" + end + "\n"
open(doc, "w").write(text)
PY
}

# bench_make_mixed DIR MB: a camera-card-like mix: a few large files, some
# medium ones and many small ones, in nested directories (about MB MiB in
# all). Used by bench/copy and bench/remote, which share the trees.
bench_make_mixed() {
	python3 - "$1" "$2" <<'PY'
import os, sys
root, total = sys.argv[1], int(sys.argv[2]) << 20
os.makedirs(root, exist_ok=True)
chunk = os.urandom(1 << 20)
def write(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n]); left -= n
made, i = 0, 0
# 60% in large files (64 MiB), 30% in medium (1 MiB), 10% in small (8 KiB)
for share, size, sub in ((0.6, 64 << 20, "clips"), (0.3, 1 << 20, "photos"), (0.1, 8 << 10, "meta")):
    budget = int(total * share)
    while budget > 0:
        s = min(size, budget)
        write("%s/%s/%03d/f%06d" % (root, sub, i % 50, i), s)
        budget -= s; i += 1
PY
}

# bench_make_small DIR COUNT: COUNT files of 100 to 4,100 random bytes in
# 700 directories.
bench_make_small() {
	python3 - "$1" "$2" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = "%s/d%03d/e%02d" % (root, i % 100, i % 7)
    os.makedirs(d, exist_ok=True)
    with open("%s/f%d" % (d, i), "wb") as f:
        f.write(os.urandom(100 + (i * 37) % 4000))
PY
}

# bench_make_empty DIR COUNT: COUNT empty files, 1,000 a directory (the
# peak-memory runs).
bench_make_empty() {
	python3 - "$1" "$2" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = "%s/d%04d" % (root, i // 1000)
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    open("%s/f%d" % (d, i), "wb").close()
PY
}

# bench_bytes N: N bytes in a human unit ("409.0 MiB").
bench_bytes() {
	python3 -c "import sys; n=float(sys.argv[1]); u=['B','KiB','MiB','GiB','TiB']; i=0
while n >= 1024 and i < 4: n/=1024; i+=1
print('%.1f %s' % (n, u[i]))" "$1"
}
