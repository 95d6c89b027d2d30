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
