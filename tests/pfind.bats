#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pfind against find(1): each test builds its own tree and compares the sets
# of paths (NUL-separated, sorted) or the records with find's answer.

load test_helper

# pfind_sorted OUT ARGS...: pfind -0 ARGS, sorted, into OUT; status in $status.
pfind_sorted() {
	local out=$1
	shift
	prun bash -c 'set -o pipefail; pfind -0 "$@" | sort -z > "$0"' "$out" "$@"
}

# same_as_find ROOT ARGS...: pfind and find print the same set of paths.
same_as_find() {
	local root=$1
	shift
	if [ $# -gt 0 ]; then
		find "$root" \( "$@" \) -print0 | sort -z > "$BATS_TEST_TMPDIR/find.out"
	else
		find "$root" -print0 | sort -z > "$BATS_TEST_TMPDIR/find.out"
	fi
	pfind_sorted "$BATS_TEST_TMPDIR/pfind.out" "$root" "$@"
	assert_success
	if ! cmp -s "$BATS_TEST_TMPDIR/find.out" "$BATS_TEST_TMPDIR/pfind.out"; then
		echo "pfind and find differ for: $root $*" >&2
		diff <(tr '\0' '\n' < "$BATS_TEST_TMPDIR/find.out") \
			<(tr '\0' '\n' < "$BATS_TEST_TMPDIR/pfind.out") | head -n 20 >&2
		return 1
	fi
}

# sorted_reference DIR: the --sort order as a shell walk: DIR, then each
# directory's entries by name (byte order), then its subdirectories' contents.
sorted_reference() {
	printf '%s\n' "$1"
	_sorted_block "$1"
}
_sorted_block() {
	local dir=$1 name
	local -a names
	mapfile -t names < <(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
	for name in "${names[@]}"; do printf '%s\n' "$dir/$name"; done
	for name in "${names[@]}"; do
		if [ -d "$dir/$name" ] && [ ! -L "$dir/$name" ]; then _sorted_block "$dir/$name"; fi
	done
}

@test "pfind prints inode, size and path like find -printf '%i\t%s\t%p\n'" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	prun pfind t
	assert_success
	diff <(find t -printf '%i\t%s\t%p\n' | sort) <(printf '%s\n' "$output" | sort)
}

@test "pfind walks . by default and prints roots as given" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR/t"
	same_as_find .
	prun pfind
	assert_success
	diff <(find . -printf '%i\t%s\t%p\n' | sort) <(printf '%s\n' "$output" | sort)
	cd ..
	same_as_find t/
	same_as_find "$BATS_TEST_TMPDIR/t/a"
	same_as_find t/a/s511
}

@test "pfind walks several roots and reports a missing one with exit 1" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	prun pfind -0 t/a nonexistent t/d
	assert_failure 1
	assert_output --partial "pfind: nonexistent: No such file or directory"
	pfind_sorted out t/a nonexistent t/d
	assert_failure 1
	find t/a t/d -print0 | sort -z | cmp - out
}

@test "pfind -name, -iname and -path match as find's do" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -name 's5*'
	same_as_find t -name '*.txt'
	same_as_find t -iname '*.txt'
	same_as_find t -iname 'README*'
	same_as_find t -name '.*'
	same_as_find t -name t
	same_as_find t/ -name t
	same_as_find t -path '*b/s*'
	same_as_find t -path 't/a/*'
	same_as_find t -ipath '*/D/*'
	same_as_find t -name '[ab]'
}

@test "pfind -type selects each file type as find's does" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local type
	for type in f d l p s b c; do
		same_as_find t -type "$type"
	done
	same_as_find t -type f,l
}

@test "pfind -size uses find's units and rounding" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local size
	for size in 0 1 -1 +1 2 -2 +2 3 512c +512c -512c 513c 1k -1k +1k 2k 1M -1M +1M 2M \
		1G +1G -1G 3G -3G 1024w 1b +1b; do
		same_as_find t -type f -size "$size"
	done
}

@test "pfind -mtime, -mmin and -newer compare times as find's do" {
	local t=$BATS_TEST_TMPDIR/t age
	mkdir -p "$t"
	# (Away from whole-day and whole-minute boundaries, where the few
	# milliseconds between find's and pfind's start could matter.)
	for age in '10 minutes 20 seconds' '45 minutes 30 seconds' '90 minutes 10 seconds' \
		'5 hours' '30 hours' '71 hours' '73 hours' '50 hours' '10 days 1 hour'; do
		touch -d "-$age" "$t/${age// /_}"
	done
	touch -d '+2 hours' "$t/future"
	touch -d '-2 days' "$t/reference"
	for age in 0 -1 +0 1 +1 2 -3 +3 9 +9; do
		same_as_find "$t" -mtime "$age"
	done
	for age in -20 +20 -60 +60 45 -100 +300 1800 +1800; do
		same_as_find "$t" -mmin "$age"
	done
	same_as_find "$t" -newer "$t/reference"
	same_as_find "$t" ! -newer "$t/reference"
}

@test "pfind -mindepth and -maxdepth limit depths as find's do" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -maxdepth 0
	same_as_find t -maxdepth 1
	same_as_find t -mindepth 2
	same_as_find t -mindepth 1 -maxdepth 2
	same_as_find t -mindepth 3 -maxdepth 3
	same_as_find t -maxdepth 2 -type f
}

@test "pfind combines tests with implicit and, -a, -o, ! and parentheses" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -type f -name 's*'
	same_as_find t -type f -a -size +1
	same_as_find t -name 'sparse*' -o -type d
	same_as_find t ! -type f
	same_as_find t -not -type d -not -type f
	same_as_find t \( -name 's5*' -o -name 's10*' \) -size +1
	same_as_find t -type d -o \( -type f ! -size -1k \)
	same_as_find t -empty
}

@test "pfind -or and -and are -o and -a, as in find" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -name 'sparse*' -or -type d
	same_as_find t -type f -and -size +1
	same_as_find t -type f -and \( -name 's5*' -or -name 's10*' \) -or -type l
	same_as_find t -not -type d -and -not -type f
}

# same_prints_as_find ROOT ARGS...: pfind -0 ROOT ARGS prints the same paths
# as find ROOT ARGS, as many times each (ARGS holding find's -print).
same_prints_as_find() {
	local root=$1
	shift
	find "$root" "$@" | sort > "$BATS_TEST_TMPDIR/find.out"
	prun bash -c 'set -o pipefail; pfind -0 "$@" | tr "\0" "\n" | sort > "$0"' \
		"$BATS_TEST_TMPDIR/pfind.out" "$root" "$@"
	assert_success
	if ! cmp -s "$BATS_TEST_TMPDIR/find.out" "$BATS_TEST_TMPDIR/pfind.out"; then
		echo "pfind and find print differently for: $root $*" >&2
		diff "$BATS_TEST_TMPDIR/find.out" "$BATS_TEST_TMPDIR/pfind.out" | head -n 20 >&2
		return 1
	fi
}

@test "pfind -print prints an entry where it is reached and as often, as find's -print does" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_prints_as_find t -print
	same_prints_as_find t -type f -print
	same_prints_as_find t -name 's5*' -o -print
	same_prints_as_find t -type d -print -o -type f
	same_prints_as_find t -print -false
	same_prints_as_find t -maxdepth 1 -print -print
	same_prints_as_find t -type d -print -o -name 's*' -print -print
	same_prints_as_find t ! \( -type f -print \) -print
	# Records too: -print -print writes each record twice.
	prun pfind t -maxdepth 0 -print -print
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "${lines[1]}"
}

@test "pfind -wholename is -path, as in find" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -wholename '*b/s*'
	same_as_find t -wholename 't/a/*'
	same_as_find t ! -wholename '*/.*'
}

@test "pfind -follow is -L, as in find, wherever it stands" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -follow
	same_as_find t -follow -type l
	same_as_find t -type l -follow
	same_as_find t -name 's5*' -follow
	same_as_find t/link-to-a -follow
	# The tree links to a directory, so following it makes a difference.
	run cmp <(find t -print0 | sort -z) <(find -L t -print0 | sort -z)
	assert_failure
	pfind_sorted "$BATS_TEST_TMPDIR/pfind.out" t -follow
	assert_success
	find -L t -print0 | sort -z | cmp - "$BATS_TEST_TMPDIR/pfind.out"
}

@test "pfind --exclude prunes matching directories and skips matching files" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	find t ! -path t \( -name b -o -name '*.txt' -o -name '*.TXT' \) -prune -o -print0 |
		sort -z > expected
	pfind_sorted actual t --exclude b --exclude '*.txt' --exclude='*.TXT'
	assert_success
	cmp expected actual
	find t -path 't/a/b' -prune -o -print0 | sort -z > expected
	pfind_sorted actual --exclude 't/a/b' t
	assert_success
	cmp expected actual
}

@test "pfind --no-hidden skips dot entries and what is below them" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	find t ! -path t -name '.*' -prune -o -print0 | sort -z > expected
	pfind_sorted actual --no-hidden t
	assert_success
	cmp expected actual
	cd t
	find . ! -path . -name '.*' -prune -o -print0 | sort -z > ../expected
	pfind_sorted ../actual --no-hidden
	assert_success
	cmp ../expected ../actual
}

@test "pfind -0 prints the same NUL-terminated paths as find -print0" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	same_as_find "$BATS_TEST_TMPDIR/t"
}

@test "pfind --fields gives type, mtime, mode, nlink, uid, gid, dev, link and depth as find sees them" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	prun pfind t --fields type,mtime,mode,nlink,uid,gid,dev,link,depth
	assert_success
	printf '%s\n' "$output" | python3 -c '
import sys
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    attrs = dict(a.split(":", 1) for a in f[3:])
    sec, nsec = attrs["mtime"].split(".")
    assert len(nsec) == 9 and len(attrs["mode"]) == 4, line
    print("\t".join([f[0], f[1], f[2], attrs["type"], sec + nsec, "%o" % int(attrs["mode"], 8),
        attrs["nlink"], attrs["uid"], attrs["gid"], attrs["dev"], attrs.get("link", ""), attrs["depth"]]))
' | sort > actual
	find t -printf '%i\t%s\t%p\t%y\t%T@\t%m\t%n\t%U\t%G\t%D\t%l\t%d\n' |
		awk -F'\t' -v OFS='\t' '{ split($5, t, "."); $5 = t[1] substr(t[2] "000000000", 1, 9); print }' |
		sort > expected
	diff expected actual
}

@test "pfind --fields link is left out for entries that are not symlinks" {
	mkdir -p "$BATS_TEST_TMPDIR/t"
	ln -s 'a target'$'\t''with tab' "$BATS_TEST_TMPDIR/t/l"
	: > "$BATS_TEST_TMPDIR/t/f"
	cd "$BATS_TEST_TMPDIR"
	prun pfind t/f t/l --fields link
	assert_success
	assert_line --partial $'t/f'
	refute_line --partial $'t/f\tlink:'
	assert_line --partial $'t/l\tlink:a target\\twith tab'
}

# decode_paths: pfind's records on stdin, their unescaped paths NUL-terminated
# and sorted on stdout (to compare with find -print0 | sort -z).
decode_paths() {
	python3 -c '
import sys, re
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    path = line.rstrip(b"\n").split(b"\t")[2]
    def un(m):
        s = m.group(0)
        return {b"\\\\": b"\\", b"\\t": b"\t", b"\\n": b"\n", b"\\r": b"\r"}.get(s) or bytes([int(s[2:], 16)])
    out.write(re.sub(rb"\\(x[0-9a-f]{2}|.)", un, path) + b"\0")
' | sort -z
}

@test "pfind escapes awkward names and -0 keeps them raw" {
	make_awkward_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t
	prun pfind t
	assert_success
	# Decode pfind's escaped path field and compare with find's raw paths.
	printf '%s\n' "$output" | decode_paths > decoded
	find t -print0 | sort -z | cmp - decoded
	# No record spans lines: one line per entry.
	assert_equal "$(printf '%s\n' "$output" | wc -l)" "$(find t -printf x | wc -c)"
}

@test "pfind escapes awkward directory names at every depth, going down, up and across" {
	local seg j
	# pfind escapes a directory's path once and, going deeper, only the
	# names it adds: long names with escapes at each level, siblings that
	# share a prefix, and a climb back up must all come out exact.
	cd "$BATS_TEST_TMPDIR"
	printf -v seg 'dir-%070d' 0
	for j in 1 2 3; do
		mkdir -p "t/$seg"$'\t'"$j/$seg\\$j/$seg"$'\n'"$j/$seg"$'\x7f'"$j"
		touch "t/$seg"$'\t'"$j/f"$'\r' "t/$seg"$'\t'"$j/$seg\\$j/$seg"$'\n'"$j/leaf"
		mkdir -p "t/$seg"$'\t'"$j"$'\t'"more/x"
	done
	find t -print0 | sort -z > expected
	for jobs in 1 4; do
		prun pfind -j "$jobs" t
		assert_success
		printf '%s\n' "$output" | decode_paths > decoded
		cmp expected decoded
		prun pfind -j "$jobs" --sort t
		assert_success
		printf '%s\n' "$output" | decode_paths > decoded
		cmp expected decoded
	done
}

@test "pfind walks a 3,000-level chain past PATH_MAX within a small descriptor limit" {
	local t=$BATS_TEST_TMPDIR/deep i
	mkdir -p "$t"
	(cd "$t" && for ((i = 0; i < 3000; i++)); do mkdir dir_level && cd dir_level || exit 1; : > f; done)
	cd "$BATS_TEST_TMPDIR"
	find deep -print0 | sort -z > expected
	prun bash -c 'ulimit -n 48; set -o pipefail; pfind -0 -j4 deep | sort -z > actual'
	assert_success
	cmp expected actual
	prun bash -c 'ulimit -n 48; set -o pipefail; pfind --sort -j4 deep | cut -f3 | tail -n 1 | wc -c'
	assert_success
	assert [ "$output" -gt 30000 ]
}

@test "pfind walks a 10,000-level chain within 48 descriptors, as deep as find" {
	local t=$BATS_TEST_TMPDIR/deep10k
	mkdir -p "$t"
	# Paths reach 20,000 bytes. Only the deepest entries are printed: the
	# whole listing would be hundreds of megabytes of path.
	# Made through directory descriptors: a shell's cd slows down with depth.
	python3 - "$t" <<-'PY'
		import os, sys
		fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
		for _ in range(10000):
		    os.mkdir("d", dir_fd=fd)
		    next_fd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
		    os.close(fd)
		    fd = next_fd
		    os.close(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
		os.close(fd)
	PY
	cd "$BATS_TEST_TMPDIR"
	find deep10k -mindepth 10000 -printf '%i\t%s\t%p\n' | sort > expected
	assert_equal "$(wc -l < expected)" 3
	for sort in "" --sort; do
		prun bash -c "ulimit -n 48; set -o pipefail; pfind $sort -j4 deep10k -mindepth 10000 | sort > actual"
		assert_success
		cmp expected actual
	done
}

@test "pfind reopens evicted ancestors in a deep and branching tree" {
	local t=$BATS_TEST_TMPDIR/tree i
	mkdir -p "$t"
	# 200 levels, two subdirectories and a file at each: far more open
	# directories than the descriptor limit allows at once.
	(cd "$t" && for ((i = 0; i < 200; i++)); do mkdir a b && : > b/f && cd a || exit 1; done)
	cd "$BATS_TEST_TMPDIR"
	find tree -print0 | sort -z > expected
	prun bash -c 'ulimit -n 40; set -o pipefail; pfind -0 -j8 tree | sort -z > actual'
	assert_success
	cmp expected actual
	prun bash -c 'ulimit -n 40; set -o pipefail; pfind --sort -j8 tree | sort > actual2'
	assert_success
	find tree -printf '%i\t%s\t%p\n' | sort | diff - actual2
}

@test "pfind walks a directory of 30,000 entries" {
	local t=$BATS_TEST_TMPDIR/wide
	mkdir -p "$t"
	(cd "$t" && seq -f 'file%05g' 1 30000 | xargs touch && mkdir sub && : > sub/x)
	same_as_find "$t"
	prun bash -c 'pfind --sort "$0" | wc -l' "$t"
	assert_success
	assert_output 30003
}

@test "pfind -L follows symlinks and reports a loop with exit 1" {
	local t=$BATS_TEST_TMPDIR/t
	mkdir -p "$t/a/b" "$t/other"
	: > "$t/a/b/f" && : > "$t/other/g"
	ln -s ../.. "$t/a/b/up"
	ln -s ../other "$t/a/to-other"
	cd "$BATS_TEST_TMPDIR"
	prun pfind -L -0 t
	assert_failure 1
	assert_output --partial "pfind: t/a/b/up: Too many levels of symbolic links"
	prun pfind -L --sort t
	assert_failure 1
	assert_output --partial "pfind: t/a/b/up: Too many levels of symbolic links"
	assert_line --regexp $'^[0-9]+\t[0-9]+\tt/a/to-other/g$'
	find -L t -print0 2>/dev/null | sort -z > expected
	pfind_sorted actual -L t
	assert_failure 1
	cmp expected actual
	# Without -L the loop is just a symlink.
	same_as_find t
	same_as_find t -type l
	find -L t -type d -print0 2>/dev/null | sort -z > expected
	pfind_sorted actual -L t -type d
	assert_failure 1
	cmp expected actual
}

@test "pfind reports an unreadable directory, lists the rest and exits 1, sorted or not" {
	local t=$BATS_TEST_TMPDIR/t sort
	mkdir -p "$t/open/sub" "$t/closed/inner"
	: > "$t/open/sub/f" && : > "$t/closed/inner/g" && : > "$t/top"
	chmod 755 "$BATS_TEST_TMPDIR"
	cd "$BATS_TEST_TMPDIR"
	# Sorted, the directory is read (and its error reported) by a worker.
	for sort in "" --sort; do
		chmod 000 "$t/closed"
		prun as_nobody pfind $sort t
		chmod 755 "$t/closed"
		assert_failure 1
		assert_line "pfind: t/closed: Permission denied"
		assert_line --regexp $'^[0-9]+\t[0-9]+\tt/open/sub/f$'
		assert_line --regexp $'^[0-9]+\t[0-9]+\tt/closed$'
		assert_line --regexp $'^[0-9]+\t[0-9]+\tt/top$'
		refute_line --partial "inner"
	done
}

@test "pfind's memory stays bounded behind a reader that does not read, sorted or not" {
	# Two trees under a 3,500-byte prefix: 2,000 files (7 MB of records)
	# and 15,000 (over 50 MB). A pfind whose reader does not read must stop
	# walking when its buffers and the pipe are full, so it holds as much
	# memory over the large tree as over the small one; sorted, its
	# workers stop when what they read ahead fills the window (8 MiB).
	python3 - "$BATS_TEST_TMPDIR" <<-'PY'
		import os, sys
		for tree, dirs in (("small", 20), ("large", 150)):
		    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
		    for name in [tree] + ["%03d" % i + "x" * 247 for i in range(14)]:
		        os.mkdir(name, dir_fd=fd)
		        nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
		        os.close(fd)
		        fd = nfd
		    for d in range(dirs):
		        os.mkdir("d%03d" % d, dir_fd=fd)
		        dfd = os.open("d%03d" % d, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
		        for f in range(100):
		            os.close(os.open("f%03d" % f, os.O_WRONLY | os.O_CREAT, dir_fd=dfd))
		        os.close(dfd)
		    os.close(fd)
	PY
	# VmHWM (peak resident memory) of pfind after its reader waited 2 s.
	# AddressSanitizer's quarantine of freed blocks (make check) would count
	# against pfind: turn it off here, as pcopy's memory test does.
	export ASAN_OPTIONS=quarantine_size_mb=0:thread_local_quarantine_size_kb=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	run python3 - "$BATS_TEST_TMPDIR" <<-'PY'
		import os, sys, time
		def blocked_peak(tree, least, options):
		    r, w = os.pipe()
		    pid = os.posix_spawnp("pfind", ["pfind"] + options + [tree], os.environ,
		                          file_actions=[(os.POSIX_SPAWN_DUP2, w, 1),
		                                        (os.POSIX_SPAWN_CLOSE, r)])
		    os.close(w)
		    time.sleep(2)
		    with open("/proc/%d/status" % pid) as status:
		        hwm = [int(l.split()[1]) for l in status if l.startswith("VmHWM:")][0]
		    total = 0
		    while True:
		        chunk = os.read(r, 1 << 16)
		        if not chunk:
		            break
		        total += len(chunk)
		    _, code = os.waitpid(pid, 0)
		    assert code == 0 and total >= least, (code, total)
		    return hwm
		ok = True
		for options in ([], ["--sort"]):
		    small = blocked_peak(os.path.join(sys.argv[1], "small"), 6 << 20, options)
		    large = blocked_peak(os.path.join(sys.argv[1], "large"), 50 << 20, options)
		    print(" ".join(options) or "unsorted", small, large)
		    ok = ok and large <= small + 8 * 1024
		sys.exit(0 if ok else 1)
	PY
	echo "VmHWM KiB, blocked over the small tree and over the large one: $output"
	assert_success
}

@test "pfind | head -1 ends at once and quietly, sorted or not" {
	local t=$BATS_TEST_TMPDIR/t sort
	mkdir -p "$t"
	# Nested, so that a sorted walk stopped by the closed pipe leaves
	# directories read ahead, with their subdirectories, not yet written
	# (which make check's leak checker then sees freed).
	(cd "$t" && for d in $(seq 1 50); do
		mkdir "d$d" && (cd "d$d" && seq 1 200 | xargs touch && mkdir s1 s2 &&
			touch s1/a s1/b s2/c && mkdir s1/x s2/y)
	done)
	cd "$BATS_TEST_TMPDIR"
	for sort in "" --sort; do
		prun bash -c 'pfind $1 "$0" 2>err | head -n 1; cat err' "$t" $sort
		assert_success
		assert_equal "${#lines[@]}" 1
		prun bash -c 'trap "" PIPE; pfind $1 "$0" | head -n 1 >/dev/null; echo "status ${PIPESTATUS[0]}"' "$t" $sort
		assert_success
		assert_output --regexp '^status [01]$'
	done
}

@test "pfind -xdev and -mount do not descend into a tmpfs mounted inside the tree" {
	local t=$BATS_TEST_TMPDIR/t
	mkdir -p "$t/mnt" "$t/plain"
	: > "$t/plain/f"
	if ! mount -t tmpfs ptools-test "$t/mnt" 2>/dev/null; then
		skip "cannot mount a tmpfs here"
	fi
	MOUNTED=$t/mnt
	: > "$t/mnt/on-tmpfs"
	mkdir "$t/mnt/dir"
	same_as_find "$t" -xdev
	same_as_find "$t" -mount
	same_as_find "$t"
	pfind_sorted "$BATS_TEST_TMPDIR/out" --xdev "$t"
	assert_success
	refute cmp -s "$BATS_TEST_TMPDIR/find.out" "$BATS_TEST_TMPDIR/out"
	find "$t" -xdev -print0 | sort -z | cmp - "$BATS_TEST_TMPDIR/out"
}

teardown() {
	if [ -n "${MOUNTED:-}" ]; then umount "$MOUNTED" || true; fi
}

@test "pfind --sort lists each directory by name, then its subdirectories, the same for any -j" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	local i
	for i in 3 1 2 B a _ Z; do mkdir -p "$BATS_TEST_TMPDIR/t/e/$i/x$i" && : > "$BATS_TEST_TMPDIR/t/e/$i/f"; done
	cd "$BATS_TEST_TMPDIR"
	sorted_reference t > expected
	prun bash -c 'pfind --sort t | cut -f3 > sorted1'
	assert_success
	diff expected sorted1
	for i in 1 2 8; do
		prun bash -c "pfind --sort -j$i t > run$i"
		assert_success
	done
	prun bash -c 'pfind --sort t > run0'
	assert_success
	cmp run0 run1
	cmp run0 run2
	cmp run0 run8
	prun bash -c 'pfind --sort -0 t -type f | tr "\0" "\n"'
	assert_success
	diff <(grep -Fxf <(find t -type f) expected) <(printf '%s\n' "$output")
}

@test "pfind rejects usage errors with exit 2" {
	cd "$BATS_TEST_TMPDIR"
	local args
	for args in "--bogus" "-j" "-j 0" "-j x" "-j 9999" ". -bogus" ". -name" ". -type q" \
		". -size 3X" ". -size" ". -mtime abc" ". -newer /nonexistent/x" ". (" ". -name a )" \
		"--fields nope ." "--fields type,,mode ." "-0 --fields type ." ". -maxdepth -1" \
		". -o" ". !" "--exclude"; do
		# shellcheck disable=SC2086
		prun pfind $args
		assert_failure 2
		assert_output --partial "pfind: "
	done
	# find's actions pfind leaves to a pipe: the message says which pipe.
	prun pfind . -exec rm {} ';'
	assert_failure 2
	assert_line --index 0 "pfind: unknown predicate '-exec' (pfind runs no command: pipe bare paths, pfind PATH... -print0 | xargs -0 COMMAND)"
	prun pfind . -delete
	assert_failure 2
	assert_line --index 0 "pfind: unknown predicate '-delete' (pfind deletes nothing: pfind PATH... -print0 | xargs -0 rm --)"
	prun pfind . -printf '%p\n'
	assert_failure 2
	assert_line --index 0 --partial "(pfind writes records: --fields adds attributes"
}

@test "pfind out of memory while reading its arguments exits 1 with a message, not 2" {
	[ "${PTOOLS_VALGRIND:-0}" = 1 ] && skip "valgrind replaces the allocator the shim wraps"
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/nomem.so" "$BATS_TEST_DIRNAME/nomem_shim.c" -ldl ||
		skip "cannot build the LD_PRELOAD shim"
	# An ASan build (make check) insists on coming first in the preload list.
	export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local fail
	# malloc: the option gathering; calloc: the expression's nodes;
	# realloc: the list of --exclude patterns.
	for fail in malloc calloc realloc; do
		NOMEM_SHIM=$fail LD_PRELOAD=$BATS_TEST_TMPDIR/nomem.so prun pfind t --exclude x -name t
		assert_failure 1
		assert_output --regexp '^pfind: .*memory'
		refute_output --partial "Try 'pfind --help'"
	done
	# The shim fails nothing it is not told to.
	NOMEM_SHIM= LD_PRELOAD=$BATS_TEST_TMPDIR/nomem.so prun pfind t --exclude x -name t
	assert_success
	assert_output --regexp $'^[0-9]+\t[0-9]+\tt$'
}

@test "pfind --help and --version print to stdout and exit 0" {
	prun pfind --help
	assert_success
	assert_output --partial "Usage: pfind"
	local word
	for word in -prune -quit -print0 -perm -user -group -nouser -nogroup -newerXY -samefile \
		-links -inum -regex -iregex -regextype; do
		grep -qE -- " $word( |\$)" <<< "$output" || fail "--help does not name $word"
	done
	prun pfind --version
	assert_success
	assert_output --partial "pfind"
}

@test "pfind options may follow the paths" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	pfind_sorted a t -type f -j 2
	assert_success
	find t -type f -print0 | sort -z | cmp - a
	prun pfind t -maxdepth 0 --fields type
	assert_success
	assert_output --regexp $'^[0-9]+\t[0-9]+\tt\ttype:d$'
}

@test "pfind takes the word after each test that has an argument as that argument, even one that looks like an option" {
	local t=$BATS_TEST_TMPDIR/t
	mkdir -p "$t/a"
	: > "$t/-L"
	: > "$t/a/-0"
	: > "$t/--sort"
	: > "$t/-j"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -name -L
	same_as_find t -iname -l
	same_as_find t -path '*/-0'
	same_as_find t -ipath 'T/--SORT'
	same_as_find t -name -j
	same_as_find t -mindepth 1 -name --sort
}

@test "pfind escapes control bytes in long directory prefixes as in short ones" {
	local long
	printf -v long 'a%.0s' {1..80}
	mkdir -p "$BATS_TEST_TMPDIR/t/$long"$'\t'"x/sub"$'\n'"y"
	: > "$BATS_TEST_TMPDIR/t/$long"$'\t'"x/sub"$'\n'"y/f"$'\\'"g"
	cd "$BATS_TEST_TMPDIR"
	prun pfind t
	assert_success
	assert_line --regexp $'\tt/a{80}\\\\tx/sub\\\\ny/f\\\\\\\\g$'
	prun pfind --sort t
	assert_success
	assert_line --regexp $'\tt/a{80}\\\\tx/sub\\\\ny/f\\\\\\\\g$'
}

# shim_run VAR NAME CMD...: CMD (a pfind or find command line, run by bash)
# with NAME removed by tests/eio_shim.c at its stat (VAR EIO_SHIM_VANISH) or
# just after (EIO_SHIM_VANISH_LATE); stdout, lines sorted (NULs made
# newlines), in ./out, stderr in ./err, the status in $status. Fails the test
# if the shim removed nothing.
shim_run() {
	local var=$1 name=$2
	shift 2
	prun env LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" "$var=$name" \
		bash -c 'set -o pipefail; "$@" 2>err | tr "\0" "\n" | sort > out' _ "$@"
	[ ! -e "t/$name" ] && [ ! -L "t/$name" ] || fail "the shim did not remove t/$name"
}

# make_gone NAME: t/NAME afresh, a directory if NAME ends in -dir, else a file.
make_gone() {
	case $1 in
	*-dir) mkdir "t/$1" ;;
	*) echo y > "t/$1" ;;
	esac
}

@test "pfind reports an entry that vanished between readdir and stat as find does; -ignore_readdir_race leaves it out" {
	local name ign sort want_status
	# pfind's message and status are find's, except that find with
	# -ignore_readdir_race still reports a directory that vanished, which
	# pfind leaves out too (pfind(1)).
	same_report() {
		[ "$ign" = -ignore_readdir_race ] && [ "$name" = gone-dir ] && return
		assert_equal "$status" "$want_status"
		cmp err want-err
	}
	build_shim
	cd "$BATS_TEST_TMPDIR"
	mkdir -p t/a
	echo x > t/a/f
	echo y > t/keep
	for name in gone gone-dir; do
		for ign in "" -ignore_readdir_race "-ignore_readdir_race -noignore_readdir_race"; do
			# find itself, under the same shim, is the reference: its
			# message (quotes dropped) and status, and its records.
			make_gone "$name"
			shim_run EIO_SHIM_VANISH "$name" find t $ign -printf '%i\t%s\t%p\n'
			want_status=$status
			mv out want
			sed "s/^find: '\(.*\)': /pfind: \1: /" err > want-err
			for sort in "" --sort; do
				make_gone "$name"
				shim_run EIO_SHIM_VANISH "$name" pfind $sort t $ign
				if [ "$ign" = -ignore_readdir_race ]; then
					assert_success
					assert_equal "$(cat err)" ""
				else
					assert_failure 1
					assert_equal "$(cat err)" "pfind: t/$name: No such file or directory"
				fi
				same_report
				cmp out want
			done
			# The stat that a test makes on demand (-0 makes none of
			# its own); a directory is then not entered, nor reported
			# twice.
			make_gone "$name"
			shim_run EIO_SHIM_VANISH "$name" find t $ign -size -2k -print0
			want_status=$status
			mv out want
			sed "s/^find: '\(.*\)': /pfind: \1: /" err > want-err
			make_gone "$name"
			shim_run EIO_SHIM_VANISH "$name" pfind -0 t $ign -size -2k
			if [ "$ign" = -ignore_readdir_race ]; then
				assert_success
			else
				assert_failure 1
			fi
			same_report
			cmp out want
		done
	done
}

@test "pfind reports a directory or symlink that vanished after its stat once; -ignore_readdir_race says nothing" {
	local ign sort head
	build_shim
	cd "$BATS_TEST_TMPDIR"
	mkdir -p t/a
	echo x > t/a/f
	for sort in "" --sort; do
		for ign in "" -ignore_readdir_race; do
			# Listed and stat'ed, then gone before it is opened: its
			# record is out already, and the message says why its
			# contents are not (as find says, without the option).
			mkdir t/gone-dir
			head=$(stat -c '%i	%s' t/gone-dir)
			shim_run EIO_SHIM_VANISH_LATE gone-dir pfind $sort t $ign
			if [ -n "$ign" ]; then
				assert_success
				assert_equal "$(cat err)" ""
			else
				assert_failure 1
				assert_equal "$(cat err)" "pfind: t/gone-dir: No such file or directory"
			fi
			grep -qx "$head	t/gone-dir" out
			grep -v '	t/gone-dir$' out | cmp - <(find t -printf '%i\t%s\t%p\n' | sort)
			# A symlink gone before --fields link reads its target gets
			# no record: what is left is what find lists now.
			ln -s a t/gone-link
			shim_run EIO_SHIM_VANISH_LATE gone-link pfind $sort --fields link t $ign
			if [ -n "$ign" ]; then
				assert_success
				assert_equal "$(cat err)" ""
			else
				assert_failure 1
				assert_equal "$(cat err)" "pfind: t/gone-link: No such file or directory"
			fi
			find t -printf '%i\t%s\t%p\n' | sort | cmp - out
		done
	done
}

@test "pfind -ignore_readdir_race still reports a missing root, as find does" {
	cd "$BATS_TEST_TMPDIR"
	mkdir t
	run find nonexistent t -ignore_readdir_race
	assert_failure 1
	prun pfind nonexistent t -ignore_readdir_race
	assert_failure 1
	assert_output --partial "pfind: nonexistent: No such file or directory"
}

# usage_error ARGS...: pfind ARGS exits 2 with one "pfind: " line before the
# hint, as find rejects the same arguments (where find rejects them too).
usage_error() {
	prun pfind "$@"
	assert_failure 2
	assert_line --index 0 --regexp '^pfind: '
	assert_line --index 1 "Try 'pfind --help' for more information."
	assert_equal "${#lines[@]}" 2
}

@test "pfind -prune does not descend, and prints as find's -prune does" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_prints_as_find t -name a -prune -o -print
	same_prints_as_find t -name b -prune
	same_prints_as_find t -path t/a -prune -o -type f -print
	same_prints_as_find t -type d -prune
	same_prints_as_find t -mindepth 1 -type d -prune -o -print
	same_prints_as_find t \( -name a -o -name d \) -prune -o -name 's*' -print
	same_prints_as_find t ! -name t -prune
	same_prints_as_find t -prune
	same_as_find t -name '.*' -prune -o -type f
	# Records, sorted, in several threads.
	prun bash -c 'pfind --sort -j4 t -name a -prune -o -print | cut -f3'
	assert_success
	diff <(sorted_reference t | grep -v '^t/a\(/\|$\)') <(printf '%s\n' "$output")
	# A pruned directory is not even read: pfind reports nothing about one
	# it could not have opened.
	mkdir t/closed && : > t/closed/f && chmod 000 t/closed
	chmod 755 "$BATS_TEST_TMPDIR"
	prun as_nobody pfind -0 t -name closed -prune
	chmod 755 t/closed
	assert_success
	assert_output "t/closed"
}

@test "pfind -prune rejects an argument it does not take" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	usage_error t -prune x
}

# make_perm_tree DIR: files and directories with every kind of permission bits.
make_perm_tree() {
	local t=$1 mode
	mkdir -p "$t"
	for mode in 0000 0020 0222 0400 0440 0600 0640 0644 0664 0666 0700 0711 0750 0755 \
		0777 1777 2755 4755 6755 4000 2070 1000 0111 0101 0010 0001; do
		: > "$t/f$mode" && chmod "$mode" "$t/f$mode"
		mkdir "$t/d$mode" && chmod "$mode" "$t/d$mode"
	done
}

@test "pfind -perm reads octal and symbolic modes, exact, -all and /any, as find does" {
	make_perm_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local mode prefix
	for mode in 644 0644 755 4755 07755 0 000 7777 111 020 \
		u+w,g-x u=rw,g=r,o=r g=w u+s g+s o+t a+r +w +r,+x u=rwx,go=rx \
		u+X a+X u=rwX,g=rX o=t u=g g+u o=u a= = u+s,g+s,o+t ug+w,o-r \
		u+r-w go=u-w a=r+w =644 u+rw+x 'u=rw,g=r,o=' ugo+rwxst a-x; do
		for prefix in "" - /; do
			same_as_find t -perm "$prefix$mode"
			same_as_find t ! -perm "$prefix$mode"
		done
	done
}

@test "pfind -perm rejects a mode find rejects, with exit 2" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local mode
	for mode in 8 '' - / +644 +0 17777 u+q 'u+w,' ',u+w' 'u' 'x+w' 'u=rw g=r' 0644x \
		'u+644' 'u=7' -u+q 'u+w,,g+r'; do
		run find t -perm "$mode"
		assert_failure
		usage_error t -perm "$mode"
	done
	usage_error t -perm
}

@test "pfind -user, -group, -nouser and -nogroup take names and numbers as find does" {
	local t=$BATS_TEST_TMPDIR/t
	mkdir -p "$t/d"
	: > "$t/root-file"
	: > "$t/nobody-file" && chown nobody:nogroup "$t/nobody-file"
	: > "$t/numbered" && chown 12345:12345 "$t/numbered"
	: > "$t/mixed" && chown 0:12345 "$t/mixed"
	: > "$t/mixed2" && chown 12345:0 "$t/mixed2"
	chown 12345 "$t/d"
	getent passwd 12345 >/dev/null && skip "uid 12345 has a name here"
	getent group 12345 >/dev/null && skip "gid 12345 has a name here"
	cd "$BATS_TEST_TMPDIR"
	local who
	for who in root 0 nobody 65534 12345 4242; do
		same_as_find t -user "$who"
		same_as_find t ! -user "$who"
	done
	for who in root 0 nogroup 65534 12345 4242; do
		same_as_find t -group "$who"
	done
	same_as_find t -nouser
	same_as_find t -nogroup
	same_as_find t ! -nouser
	same_as_find t -nouser -o -nogroup
	same_as_find t -nouser -nogroup
	# The answers must be the files, not just the same as find's.
	pfind_sorted out t -nouser
	assert_success
	printf '%s\0' t/d t/mixed2 t/numbered | cmp - out
	prun bash -c 'set -o pipefail; pfind -j4 t -nogroup -print0 -o -user nobody -print0 | tr "\0" "\n" | sort'
	assert_success
	assert_equal "$(printf '%s ' $output)" "t/mixed t/nobody-file t/numbered "
}

@test "pfind -user and -group reject unknown names and empty arguments with exit 2" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local arg
	for arg in no-such-user-zz '' 12a -1 +5 99999999999; do
		run find t -user "$arg"
		assert_failure
		usage_error t -user "$arg"
	done
	for arg in no-such-group-zz '' 0x1; do
		run find t -group "$arg"
		assert_failure
		usage_error t -group "$arg"
	done
	usage_error t -user
	usage_error t -group
	usage_error t -nouser root
}

# make_time_tree DIR: files with modification and access times set apart, in
# and around 2024-03-01 (a date in winter time in Europe/Berlin) and
# 2024-07-01 (summer time), with fractions of seconds.
make_time_tree() {
	local t=$1
	mkdir -p "$t"
	touch -m -d '2024-03-01 12:00:00' "$t/m-noon" && touch -a -d '2024-07-01 12:00:00' "$t/m-noon"
	touch -m -d '2024-03-01 12:00:00.5' "$t/m-noon-half" && touch -a -d '2023-01-01' "$t/m-noon-half"
	touch -m -d '2024-03-01 12:00:01' "$t/m-noon-1s" && touch -a -d '2024-03-01 12:00:00.25' "$t/m-noon-1s"
	touch -m -d '2024-02-29 23:59:59' "$t/m-leap" && touch -a -d '2030-01-01' "$t/m-leap"
	touch -m -d '2024-03-01 00:00:00' "$t/m-midnight"
	touch -m -d '2024-07-01 09:30:00' "$t/m-summer"
	touch -m -d '1969-12-31 23:59:59 UTC' "$t/m-before-epoch"
	touch -m -d '2024-03-01 11:00:00 UTC' "$t/m-11utc"
	touch -d '2024-01-01' "$t"
	# Reading the directory updates its atime once (relatime): now, rather
	# than in the first of two walks that are compared.
	ls "$t" > /dev/null
}

@test "pfind -newermt and -newerXt read the dates users type, in local time, as find does" {
	export TZ=Europe/Berlin
	make_time_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local date test
	for date in 2024-03-01 2024-3-1 2024-02-29 '2024-03-01 12:00' '2024-03-01 12:00:00' \
		'2024-03-01 11:59:59' '2024-03-01 12:00:00.4' '2024-03-01 12:00:00.5' \
		'2024-03-01 12:00:00,75' '2024-03-01 12:00:00.123456789123' 2024-03-01T12:00:00 \
		2024-03-01T12:00 2024-03-01T11:00:00Z '2024-03-01 10:59:59Z' 2024-03-01T12:00:00+01:00 \
		'2024-03-01 13:00:00 +0200' 2024-07-01T09:29:59 2024-07-01T09:30:00 \
		@1709290800 @1709290800.5 @1709290799.999 @0 @-1 @-1.5 1969-12-31 1970-01-01 \
		2000-01-01 2099-12-31 9:30; do
		[ "$date" = 9:30 ] && continue
		for test in -newermt -newerat -newerct; do
			same_as_find t "$test" "$date"
			same_as_find t ! "$test" "$date"
		done
	done
}

@test "pfind -newerXY, -newer, -anewer and -cnewer compare a reference file's times as find does" {
	make_time_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local x y ref
	for ref in t/m-noon t/m-noon-half t/m-leap t/m-noon-1s; do
		for x in a c m; do
			for y in a c m; do
				same_as_find t "-newer$x$y" "$ref"
			done
		done
		same_as_find t -newer "$ref"
		same_as_find t -anewer "$ref"
		same_as_find t -cnewer "$ref"
		same_as_find t -newermm "$ref" ! -newermt 2024-03-01T12:00:01
	done
}

@test "pfind -newerXY rejects dates it cannot read, B, t as X, and a missing reference, with exit 2" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local date
	# Dates find rejects too.
	for date in 2024-02-30 2023-02-29 2024-13-01 2024-00-10 '2024-01-02 24:00' \
		'2024-01-02 23:60' '2024-01-02 23:59:60' @ @x '2024-01-02T'; do
		run find t -newermt "$date"
		assert_failure
		usage_error t -newermt "$date"
	done
	# Dates find's parse_datetime reads but pfind does not: a clear error.
	# (x is a military time zone to parse_datetime.)
	for date in yesterday 'last monday' 'Mar 1 2024' '20240301' '2024-03-01 12:00 CET' \
		x 2024-01-02x; do
		usage_error t -newermt "$date"
		assert_line --index 0 --partial "invalid date '$date' to -newermt (use YYYY-MM-DD"
	done
	usage_error t -newerat 2024-02-30
	usage_error t -newerBt 2024-01-01
	usage_error t -newermB t
	usage_error t -newertm t
	usage_error t -newerxm t
	usage_error t -newermm /nonexistent
	usage_error t -anewer /nonexistent
	usage_error t -newermt
}

@test "pfind -print0 is find's action: it mixes with -print and with records, in order" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	# Alone, without -0, it prints bare NUL-terminated paths.
	prun bash -c 'set -o pipefail; pfind t -print0 | sort -z | od -c'
	assert_success
	assert_output "$(find t -print0 | sort -z | od -c)"
	prun bash -c 'set -o pipefail; pfind t -type f -name "s*" -print0 | sort -z | od -c'
	assert_success
	assert_output "$(find t -type f -name 's*' -print0 | sort -z | od -c)"
	# With -print: records and paths in the order reached, byte for byte.
	prun bash -c 'pfind t -maxdepth 0 -print -print0 -print | od -c'
	assert_success
	assert_output "$(find t -maxdepth 0 -printf '%i\t%s\t%p\n' -print0 -printf '%i\t%s\t%p\n' | od -c)"
	prun bash -c 'pfind t -maxdepth 0 -print0 -print | od -c'
	assert_success
	assert_output "$(find t -maxdepth 0 -print0 -printf '%i\t%s\t%p\n' | od -c)"
	# And where find prints each, as many times.
	# (Under -0, -print prints a path and a NUL too: compare with find's -print0.)
	local args
	for args in "-name s5* -print0 -o -print" "-type d -print0 -print0" \
		"-type f -print0 -o -type d -print" "! ( -type f -print0 ) -print" "-print0 -quit"; do
		# shellcheck disable=SC2086
		prun bash -c 'set -o pipefail; pfind -0 "$@" | sort -z | od -c' _ t $args
		assert_success
		# shellcheck disable=SC2086
		assert_output "$(set -f; find t $(printf '%s\n' $args | sed 's/^-print$/-print0/') |
			sort -z | od -c)"
	done
	prun bash -c 'set -o pipefail; pfind t -type f -print0 -o -print | tr "\0" "\n" | cut -f3 | sort'
	assert_success
	assert_output "$(find t | sort)"
}

@test "pfind -print0 rejects an argument it does not take" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	usage_error t -print0 x
}

@test "pfind -quit stops at the first match and prints only it, in any number of threads" {
	local t=$BATS_TEST_TMPDIR/t i jobs
	mkdir -p "$t"
	# Many matches in many directories, so that several threads meet one.
	(cd "$t" && for i in $(seq 1 60); do mkdir -p "d$i/sub" && touch "d$i/x" "d$i/sub/x" "d$i/y"; done)
	cd "$BATS_TEST_TMPDIR"
	for jobs in 1 2 8 32; do
		for i in 1 2 3 4 5; do
			prun pfind -j "$jobs" t -name x -print -quit
			assert_success
			assert_equal "${#lines[@]}" 1
			assert_output --regexp $'^[0-9]+\t0\tt/d[0-9]+/(sub/)?x$'
			prun bash -c 'set -o pipefail; pfind -0 -j "$0" t -name x -print0 -quit | tr "\0" "\n"' "$jobs"
			assert_success
			assert_output --regexp '^t/d[0-9]+/(sub/)?x$'
		done
	done
	# The root comes first, as in find.
	same_prints_as_find t -print -quit
	same_prints_as_find t -maxdepth 1 -name 'd*' -prune -o -print -quit
	# Without a -print before it nothing is printed: find's implicit
	# -print comes after -quit.
	same_prints_as_find t -name x -quit
	same_prints_as_find t -quit
	same_prints_as_find t -name nothing-matches -quit
	same_prints_as_find t -name y -print -o -name x -quit
	same_prints_as_find t ! -quit -o -print
	# Sorted, the first match in the sorted order.
	prun bash -c 'pfind --sort -j8 t -name x -print -quit | cut -f3'
	assert_success
	assert_output "$(sorted_reference t | grep -m1 '/x$')"
	# Stopped at once: on 30,000 files in one directory, -quit on the root's
	# first entry leaves no other record behind.
	mkdir "$BATS_TEST_TMPDIR/wide"
	(cd "$BATS_TEST_TMPDIR/wide" && seq -f 'file%05g' 1 30000 | xargs touch)
	prun pfind "$BATS_TEST_TMPDIR/wide" -mindepth 1 -print -quit
	assert_success
	assert_equal "${#lines[@]}" 1
}

@test "pfind -quit rejects an argument it does not take" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	usage_error t -quit x
}

@test "pfind -samefile, -links and -inum select by inode and link count as find does" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	ln t/one t/a/one-again
	ln t/one t/a/b/one-third
	ln t/d/README.txt t/readme-hard
	ln -s ../one t/a/one-link
	local n ino
	same_as_find t -samefile t/one
	same_as_find t -samefile t/a/b/one-third
	same_as_find t -samefile t/a/one-link
	same_as_find t -samefile t/a
	same_as_find t ! -samefile t/one
	same_as_find t -samefile t/broken
	# Under -L a symbolic link is the same file as its target, both ways.
	find -L t -samefile t/one -print0 2>/dev/null | sort -z > expected
	pfind_sorted actual -L t -samefile t/one
	cmp expected actual
	find -L t -samefile t/a/one-link -print0 2>/dev/null | sort -z > expected
	pfind_sorted actual -L t -samefile t/a/one-link
	cmp expected actual
	for n in 1 2 3 4 +1 +2 -2 -3 0 -1 +0; do
		same_as_find t -links "$n"
		same_as_find t -type d -links "$n"
	done
	ino=$(stat -c %i t/one)
	for n in "$ino" "+$ino" "-$ino" "$((ino + 1))" "-$((ino + 1))" "+$((ino - 1))" 0 +0; do
		same_as_find t -inum "$n"
	done
	prun bash -c 'pfind t -inum "$0" | cut -f3 | sort' "$ino"
	assert_success
	assert_output "$(printf '%s\n' t/a/b/one-third t/a/one-again t/one)"
}

@test "pfind -samefile, -links and -inum reject bad arguments with exit 2" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local arg test
	usage_error t -samefile /nonexistent
	usage_error t -samefile
	for test in -links -inum; do
		for arg in x 1k '' 1.5 99999999999999999999999; do
			run find t "$test" "$arg"
			assert_failure
			usage_error t "$test" "$arg"
		done
		# find's strtoumax lets these through; pfind wants [+-]DIGITS.
		usage_error t "$test" ++1
		usage_error t "$test" ' 1'
		usage_error t "$test"
	done
}

@test "pfind -regex and -iregex match the whole path as an ERE, as find -regextype posix-extended does" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local re
	for re in '.*/s5[0-9]+' 't/a/.*' '.*\.txt' 's5.*' 't' 't/(a|d)/[^/]*' '.*/s(5|10)[0-9]{2}' \
		'.*/(s)\1.*' '^t/a$' 't/a$' 't/a/b/?' '.*/[[:upper:]]+.*' '.*/[.].*' '' '.*' \
		't/a/s51[12]|t/d/.*' '(t/a)+/.*' '.*/\.?hid.*'; do
		same_as_find t -regextype posix-extended -regex "$re" -o -false
		pfind_sorted out t -regex "$re"
		assert_success
		cmp "$BATS_TEST_TMPDIR/find.out" out
		find t -regextype posix-extended -iregex "$re" -print0 | sort -z > expected
		pfind_sorted out t -iregex "$re"
		assert_success
		cmp expected out
	done
	find t -regextype posix-extended -iregex '.*/readme\.TXT' -print0 | sort -z > expected
	pfind_sorted out t -iregex '.*/readme\.TXT'
	assert_success
	cmp expected out
	[ "$(tr -cd '\0' < out | wc -c)" -eq 2 ]
	# Names with a newline: the path is one subject, not several lines.
	mkdir t2 && : > t2/new$'\n'line && : > t2/plain
	for re in 't2/new.line' 't2/new' '.*line' 't2/.*'; do
		find t2 -regextype posix-extended -regex "$re" -print0 | sort -z > expected
		pfind_sorted out t2 -regex "$re"
		assert_success
		cmp expected out
	done
}

@test "pfind -regex and -iregex reject a bad expression with exit 2" {
	mkdir "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	local re
	for re in '(' '[' 'a{1' '*{' 'a{2,1}' '[[:nope:]]' '\'; do
		run find t -regextype posix-extended -regex "$re"
		assert_failure
		usage_error t -regex "$re"
		usage_error t -iregex "$re"
	done
	usage_error t -regex
}

@test "pfind -regextype takes posix-extended only, which its -regex always is" {
	make_typed_tree "$BATS_TEST_TMPDIR/t"
	cd "$BATS_TEST_TMPDIR"
	same_as_find t -regextype posix-extended -regex '.*/s5[0-9]+'
	same_as_find t -regex '.*/s5[0-9]+' -regextype posix-extended
	local type
	for type in emacs posix-basic findutils-default egrep '' nope; do
		usage_error t -regextype "$type" -regex x
	done
	usage_error t -regextype
}
